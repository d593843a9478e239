/**
 * `hangwatch doctor [options] -- <command>`: run a program under the preload, sample it, and
 * say what is wrong with it, with evidence and a next step; writes a self-contained HTML report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '../atomic-file.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diffHeapSnapshots } from '../heap/heap-diff.js';
import { loadHeapSnapshot } from '../heap/load-heap-snapshot.js';
import type { GrowingConstructor } from '../report/diagnosis.js';
import { diagnose } from '../process/diagnose.js';
import { superviseRun } from '../process/supervised-run.js';
import { renderDoctorText, type DoctorReport } from '../report/doctor-report.js';
import { renderDoctorHtml } from '../report/render-html-doctor.js';
import { exitCodeOf, numberArg, parseCommandLine, Progress, stringArg } from './cli-args.js';
import { UsageError } from './errors.js';

export const usage = `Usage: hangwatch doctor [options] -- <command> [args...]

Runs <command> (a Node.js program, or a script that starts one) with the hangwatch preload,
samples CPU, memory, heap, event-loop delay and utilization, active handles and GC, traces
synchronous I/O after start-up by call site, and diagnoses event-loop blocking, I/O wait,
GC pressure, memory leaks, handle leaks and synchronous I/O.

Options:
  --duration <s>      stop the program after <s> seconds (SIGINT, then SIGTERM, SIGKILL);
                      default: until it exits or you press Ctrl-C
  --interval <ms>     sampling interval, default 500 (20..60000)
  --block-ms <ms>     an interval is blocked when the loop was delayed this long, default 100
  --html <file>       HTML report path, default ./hangwatch-doctor-<time>.html
  --no-html           do not write the HTML report
  --json              print the report as JSON on stdout (the program's stdout goes to stderr)
  --json-file <file>  also write the JSON report to <file>
  --heap-snapshots    take two heap snapshots of the program (at 25% and 85% of --duration,
                      which it needs) and name the constructors that grew between them;
                      each snapshot pauses the program while V8 writes it
  --live-heap <s>     measure the live heap every <s> seconds (one full garbage collection,
                      a pause of the program shown apart in the report), so that a slow leak
                      is told from garbage; default: 1/7 of --duration (0.5..10 s), else 2 s;
                      0: never (leaks are then judged from the program's own collections)
  --no-sync-io        do not trace synchronous fs/child_process/zlib/crypto calls (tracing
                      costs a few µs per such call after start-up)
  --quiet             no progress on stderr
  -h, --help          this help

SIGTERM and SIGHUP sent to the doctor are passed on to the program's process group; the doctor
waits for it to exit, removes its temporary files and exits with 128 + the signal's number,
writing no report. Ctrl-C (SIGINT) stops the program and diagnoses what was sampled.

Exit codes: 0 diagnosis done (whatever it found), 1 the program could not be run or no
report could be written, 2 bad arguments, 128 + n terminated by signal n (SIGTERM: 143).`;

/** V8's own bookkeeping in a snapshot: growth there says nothing about the program's data. */
const V8_BOOKKEEPING = new Set([
  '(object shape)',
  '(system)',
  '(compiled code)',
  '(code)',
  '(hidden)',
  '(number)',
  '(bigint)',
  '(symbol)',
]);

/**
 * Constructors whose live objects grew from the first to the last snapshot, with what their new
 * objects retain (a leaking record is small itself; the payloads it holds are not). Unsorted.
 */
async function growingBetweenSnapshots(paths: string[], progress: Progress): Promise<GrowingConstructor[] | undefined> {
  if (paths.length < 2) {
    progress.log(
      `hangwatch doctor: ${paths.length} heap snapshot(s) were written (the program ended early?); no constructor comparison`,
    );
    return undefined;
  }
  try {
    progress.log('hangwatch doctor: comparing the heap snapshots…');
    const before = await loadHeapSnapshot(paths[0] as string);
    const after = await loadHeapSnapshot(paths[paths.length - 1] as string);
    return (
      diffHeapSnapshots(before, after, { retainedSizes: true })
        .classes.filter((c) => c.countDelta > 0 && c.sizeDelta > 0 && !V8_BOOKKEEPING.has(c.className))
        // diagnose() ranks them by what they retain (byRetainedThenSize) and keeps the first ten.
        .map((c) => ({
          name: c.className,
          countDelta: c.countDelta,
          sizeDeltaBytes: c.sizeDelta,
          retainedBytes: c.newRetainedSize ?? c.sizeDelta,
        }))
    );
  } catch (error) {
    progress.log(`hangwatch doctor: the heap snapshots could not be compared: ${(error as Error).message}`);
    return undefined;
  }
}

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
    'heap-snapshots': { type: 'boolean' },
    'live-heap': { type: 'string' },
    'no-sync-io': { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const durationS = numberArg(values, 'duration', { min: 0.1, max: 7 * 24 * 3600 });
  const intervalMs = numberArg(values, 'interval', { min: 20, max: 60_000 }) ?? 500;
  const blockMs = numberArg(values, 'block-ms', { min: 1, max: 3_600_000 });
  const liveHeapS =
    numberArg(values, 'live-heap', { min: 0, max: 3600 }) ??
    (durationS !== undefined ? Math.min(10, Math.max(0.5, durationS / 7)) : 2);
  if (liveHeapS > 0 && liveHeapS < 0.05) throw new UsageError('--live-heap must be 0 (off) or at least 0.05 s');
  if (values['no-html'] && values.html !== undefined)
    throw new UsageError('--html and --no-html contradict each other');
  const snapshots = Boolean(values['heap-snapshots']);
  if (snapshots && durationS === undefined)
    throw new UsageError('--heap-snapshots needs --duration (the snapshots are taken at 25% and 85% of it)');
  const snapshotDir = snapshots ? mkdtempSync(join(tmpdir(), 'hangwatch-doctor-heap-')) : undefined;
  const [file, ...args] = command;
  if (!file) throw new UsageError('no command given: put it after --, e.g. hangwatch doctor -- node app.js');

  const progress = new Progress(!values.quiet);
  const json = Boolean(values.json);
  progress.log(
    `hangwatch doctor: running ${command.join(' ')}${durationS ? ` for ${durationS} s` : ' (Ctrl-C to stop and diagnose)'}`,
  );

  let stopEarly: (() => void) | undefined;
  const onSigint = (): void => {
    progress.log('hangwatch doctor: stopping the program…');
    stopEarly?.();
  };
  process.on('SIGINT', onSigint);
  let runResult: Awaited<ReturnType<typeof superviseRun>>;
  try {
    runResult = await superviseRun({
      command: file,
      args,
      intervalMs,
      ...(durationS !== undefined ? { durationMs: durationS * 1000 } : {}),
      ...(snapshotDir ? { awaitHeapSnapshots: 2 } : {}),
      // The doctor shows everything in its report: keep the preload's own reports out of the way.
      env: {
        HANGWATCH_STDERR: '0',
        HANGWATCH_REPORT_DIR: 'off',
        HANGWATCH_SYNC_IO: values['no-sync-io'] ? '0' : '1',
        ...(blockMs !== undefined ? { HANGWATCH_BLOCK_MS: String(blockMs) } : {}),
        ...(liveHeapS > 0 ? { HANGWATCH_LIVE_HEAP_MS: String(Math.round(liveHeapS * 1000)) } : {}),
        ...(snapshotDir && durationS !== undefined
          ? {
              HANGWATCH_SNAPSHOT_DIR: snapshotDir,
              HANGWATCH_SNAPSHOT_AT_MS: `${Math.round(durationS * 250)},${Math.round(durationS * 850)}`,
            }
          : {}),
      },
      stdio: json ? ['inherit', 2, 'inherit'] : 'inherit',
      onStart: (stop) => {
        stopEarly = stop;
      },
      onProgress: ({ elapsedMs, samples, pid }) =>
        progress.update(
          `hangwatch doctor: ${(elapsedMs / 1000).toFixed(1)} s${durationS ? ` / ${durationS} s` : ''}, ${samples} samples${pid ? ` of pid ${pid}` : ' (waiting for the Node.js process)'}`,
        ),
    });
  } catch (error) {
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (runResult.forwardedSignal) {
    // Terminated (SIGTERM, SIGHUP): the program got the signal and has exited; no diagnosis.
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    progress.log(`hangwatch doctor: ${runResult.forwardedSignal} received; the program was stopped, no report written`);
    return exitCodeOf(undefined, runResult.forwardedSignal);
  }
  progress.log(`hangwatch doctor: analysing ${runResult.samples.length} samples…`);
  let growingConstructors: GrowingConstructor[] | undefined;
  if (snapshotDir) {
    growingConstructors = await growingBetweenSnapshots(runResult.heapSnapshots, progress);
    rmSync(snapshotDir, { recursive: true, force: true });
  }
  const diagnosis = diagnose(runResult.samples, {
    blocks: runResult.blocks,
    hangwatchPauses: runResult.hangwatchPauses,
    samplesEpochMs: Date.parse(runResult.startedAt),
    ...(runResult.syncIo ? { syncIo: runResult.syncIo } : {}),
    ...(growingConstructors ? { growingConstructors } : {}),
    ...(blockMs !== undefined ? { thresholds: { blockDelayMs: blockMs } } : {}),
  });
  const report: DoctorReport = {
    schema: 'hangwatch.doctor-report',
    schemaVersion: 1,
    generator: 'hangwatch doctor',
    run: runResult,
    diagnosis,
  };

  let failed = false;
  const write = (path: string, body: string, what: string): string | undefined => {
    try {
      writeFileAtomicSync(path, body);
      return path;
    } catch (error) {
      failed = true;
      process.stderr.write(`hangwatch doctor: cannot write the ${what} to ${path}: ${(error as Error).message}\n`);
      return undefined;
    }
  };
  const htmlPath = values['no-html']
    ? undefined
    : write(
        resolve(stringArg(values, 'html') ?? `hangwatch-doctor-${timestamp()}.html`),
        renderDoctorHtml(report),
        'HTML report',
      );
  const jsonFile = stringArg(values, 'json-file');
  if (jsonFile) write(resolve(jsonFile), `${JSON.stringify(report, null, 2)}\n`, 'JSON report');

  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${renderDoctorText(report)}\n${htmlPath ? `\nHTML report: ${htmlPath}\n` : ''}`);
  if (json && htmlPath) progress.log(`hangwatch doctor: HTML report: ${htmlPath}`);
  if (!runResult.pid) {
    const ended = runResult.stoppedByHangwatch
      ? 'was stopped'
      : `ended (${runResult.exitCode !== undefined ? `exit code ${runResult.exitCode}` : runResult.signal})`;
    process.stderr.write(
      `hangwatch doctor: the command ${ended} and no Node.js process of it reported (is it a Node.js program?); nothing was sampled\n`,
    );
    return 1;
  }
  return failed ? 1 : 0;
}
