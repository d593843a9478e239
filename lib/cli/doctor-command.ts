/**
 * `hangwatch doctor [options] -- <command>`: run a program under the preload, sample it, and
 * say what is wrong with it, with evidence and a next step; writes a self-contained HTML report.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { diagnose } from '../process/diagnose.js';
import { superviseRun } from '../process/supervised-run.js';
import { renderDoctorText, type DoctorReport } from '../report/doctor-report.js';
import { renderDoctorHtml } from '../report/render-html-doctor.js';
import { numberArg, parseCommandLine, Progress, stringArg, UsageError } from './cli-args.js';

export const usage = `Usage: hangwatch doctor [options] -- <command> [args...]

Runs <command> (a Node.js program, or a script that starts one) with the hangwatch preload,
samples CPU, memory, heap, event-loop delay and utilization, active handles and GC, and
diagnoses event-loop blocking, I/O wait, GC pressure, memory leaks and handle leaks.

Options:
  --duration <s>      stop the program after <s> seconds (SIGINT, then SIGTERM, SIGKILL);
                      default: until it exits or you press Ctrl-C
  --interval <ms>     sampling interval, default 500 (20..60000)
  --block-ms <ms>     an interval is blocked when the loop was delayed this long, default 100
  --html <file>       HTML report path, default ./hangwatch-doctor-<time>.html
  --no-html           do not write the HTML report
  --json              print the report as JSON on stdout (the program's stdout goes to stderr)
  --json-file <file>  also write the JSON report to <file>
  --quiet             no progress on stderr
  -h, --help          this help

Exit codes: 0 diagnosis done (whatever it found), 1 the program could not be run or no
report could be written, 2 bad arguments.`;

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

export async function run(argv: string[]): Promise<number> {
  const { values, command } = parseCommandLine(argv, {
    duration: { type: 'string' },
    interval: { type: 'string' },
    'block-ms': { type: 'string' },
    html: { type: 'string' },
    'no-html': { type: 'boolean' },
    json: { type: 'boolean' },
    'json-file': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const durationS = numberArg(values, 'duration', { min: 0.1, max: 7 * 24 * 3600 });
  const intervalMs = numberArg(values, 'interval', { min: 20, max: 60_000 }) ?? 500;
  const blockMs = numberArg(values, 'block-ms', { min: 1, max: 3_600_000 });
  if (values['no-html'] && values.html !== undefined) throw new UsageError('--html and --no-html contradict each other');
  const [file, ...args] = command;
  if (!file) throw new UsageError('no command given: put it after --, e.g. hangwatch doctor -- node app.js');

  const progress = new Progress(!values.quiet);
  const json = Boolean(values.json);
  progress.log(`hangwatch doctor: running ${command.join(' ')}${durationS ? ` for ${durationS} s` : ' (Ctrl-C to stop and diagnose)'}`);

  let stopEarly: (() => void) | undefined;
  const onSigint = (): void => {
    progress.log('hangwatch doctor: stopping the program…');
    stopEarly?.();
  };
  process.on('SIGINT', onSigint);
  let runResult;
  try {
    runResult = await superviseRun({
      command: file,
      args,
      intervalMs,
      ...(durationS !== undefined ? { durationMs: durationS * 1000 } : {}),
      // The doctor shows everything in its report: keep the preload's own reports out of the way.
      env: { HANGWATCH_STDERR: '0', HANGWATCH_REPORT_DIR: 'off', ...(blockMs !== undefined ? { HANGWATCH_BLOCK_MS: String(blockMs) } : {}) },
      stdio: json ? ['inherit', 2, 'inherit'] : 'inherit',
      onStart: (stop) => {
        stopEarly = stop;
      },
      onProgress: ({ elapsedMs, samples, pid }) =>
        progress.update(`hangwatch doctor: ${(elapsedMs / 1000).toFixed(1)} s${durationS ? ` / ${durationS} s` : ''}, ${samples} samples${pid ? ` of pid ${pid}` : ' (waiting for the Node.js process)'}`),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }

  progress.log(`hangwatch doctor: analysing ${runResult.samples.length} samples…`);
  const diagnosis = diagnose(runResult.samples, { blocks: runResult.blocks, ...(blockMs !== undefined ? { thresholds: { blockDelayMs: blockMs } } : {}) });
  const report: DoctorReport = { schema: 'hangwatch.doctor-report', schemaVersion: 1, generator: 'hangwatch doctor', run: runResult, diagnosis };

  let failed = false;
  const write = (path: string, body: string, what: string): string | undefined => {
    try {
      writeFileSync(path, body);
      return path;
    } catch (error) {
      failed = true;
      process.stderr.write(`hangwatch doctor: cannot write the ${what} to ${path}: ${(error as Error).message}\n`);
      return undefined;
    }
  };
  const htmlPath = values['no-html'] ? undefined : write(resolve(stringArg(values, 'html') ?? `hangwatch-doctor-${timestamp()}.html`), renderDoctorHtml(report), 'HTML report');
  const jsonFile = stringArg(values, 'json-file');
  if (jsonFile) write(resolve(jsonFile), `${JSON.stringify(report, null, 2)}\n`, 'JSON report');

  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${renderDoctorText(report)}\n${htmlPath ? `\nHTML report: ${htmlPath}\n` : ''}`);
  if (json && htmlPath) progress.log(`hangwatch doctor: HTML report: ${htmlPath}`);
  if (!runResult.pid) {
    const ended = runResult.stoppedByHangwatch ? 'was stopped' : `ended (${runResult.exitCode !== undefined ? `exit code ${runResult.exitCode}` : runResult.signal})`;
    process.stderr.write(`hangwatch doctor: the command ${ended} and no Node.js process of it reported (is it a Node.js program?); nothing was sampled\n`);
    return 1;
  }
  return failed ? 1 : 0;
}
