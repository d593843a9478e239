/**
 * `hangwatch run [options] -- <command>`: run a program with the preload (block monitor, resource
 * and GC sampling); reports go to files and stderr as they happen, and a summary of what was
 * caught is printed on stderr when the program exits. Exits with the program's exit code.
 */
import type { SyncIoSite } from '../report/sync-io-report.js';
import { formatFrame, isNodeInternal } from '../capture/stack-frame.js';
import { topBlockingStacks } from '../process/diagnosis/blocking.js';
import { superviseRun, type SupervisedRun } from '../process/supervised-run.js';
import { formatBytes, formatMs } from '../report/format-units.js';
import { exitCodeOf, numberArg, parseCommandLine, stringArg } from './cli-args.js';
import { UsageError } from './errors.js';

export const usage = `Usage: hangwatch run [options] -- <command> [args...]

Runs <command> with the hangwatch preload (as node --import hangwatch/register would): blocks of
the event loop are reported on stderr and in report files as they happen, and a summary of what
was caught is printed on stderr when the program exits.

Options:
  --block-ms <ms>       report event-loop blocks at least this long, default 100
  --report-dir <dir>    where report files go, default ./hangwatch-reports ("off": none)
  --format <text|json>  format of the reports, default text
  --interval <ms>       resource sampling interval, default 1000
  --json                print the summary as JSON (on stderr: stdout is the program's)
  -h, --help            this help

Exit codes: the program's exit code (128 + signal number when a signal ended it); 1 when it
could not be started; 2 bad arguments.`;

export interface RunSummary {
  schema: 'hangwatch.run-summary';
  schemaVersion: 1;
  command: string[];
  pid: number | undefined;
  exitCode: number | undefined;
  signal: string | undefined;
  durationMs: number;
  blockThresholdMs: number;
  /** Block events with stacks (block monitor). */
  blockEvents: number;
  /** Sample intervals whose largest event-loop delay reached the threshold. */
  blockedIntervals: number;
  longestDelayMs: number;
  gc: { count: number; majorCount: number; pauseMs: number; maxPauseMs: number };
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  reportFiles: string[];
  blockStacksError?: string;
  /** Synchronous I/O after start-up, top call sites (the program ran with HANGWATCH_SYNC_IO=1). */
  syncIo?: { totalCalls: number; totalMs: number; sites: SyncIoSite[] };
}

/** Largest value of a long list (no spread: lists can be longer than the argument limit). */
function maxOf<T>(items: T[], value: (item: T) => number): number {
  let best = 0;
  for (const item of items) best = Math.max(best, value(item));
  return best;
}

export function summarizeRun(run: SupervisedRun, blockThresholdMs: number): RunSummary {
  const s = run.samples;
  const summary: RunSummary = {
    schema: 'hangwatch.run-summary',
    schemaVersion: 1,
    command: run.command,
    pid: run.pid,
    exitCode: run.exitCode,
    signal: run.signal,
    durationMs: run.durationMs,
    blockThresholdMs,
    blockEvents: run.blocks.length,
    blockedIntervals: s.filter((x) => x.loopDelay.maxMs >= blockThresholdMs).length,
    longestDelayMs: Math.max(
      maxOf(s, (x) => x.loopDelay.maxMs),
      maxOf(run.blocks, (b) => b.durationMs),
    ),
    gc: {
      count: s.reduce((a, x) => a + x.gc.count, 0),
      majorCount: s.reduce((a, x) => a + x.gc.majorCount, 0),
      pauseMs: s.reduce((a, x) => a + x.gc.pauseMs, 0),
      maxPauseMs: maxOf(s, (x) => x.gc.maxPauseMs),
    },
    peakRssBytes: Math.max(
      maxOf(s, (x) => x.rssBytes),
      maxOf(run.external, (x) => x.rssBytes),
    ),
    peakHeapUsedBytes: maxOf(s, (x) => x.heapUsedBytes),
    reportFiles: run.reportFiles,
  };
  if (run.blockStacksError) summary.blockStacksError = run.blockStacksError;
  if (run.syncIo)
    summary.syncIo = {
      totalCalls: run.syncIo.totalCalls,
      totalMs: run.syncIo.totalMs,
      sites: run.syncIo.sites.slice(0, 10),
    };
  return summary;
}

export function renderRunSummaryText(summary: RunSummary, run: SupervisedRun): string {
  const ended =
    summary.exitCode !== undefined ? `exited with code ${summary.exitCode}` : `was ended by ${summary.signal}`;
  const lines = [
    `hangwatch run: ${summary.command.join(' ')} ${ended} after ${formatMs(summary.durationMs)}${summary.pid ? ` (pid ${summary.pid})` : ''}`,
  ];
  if (!summary.pid) {
    lines.push('  no Node.js process of the command loaded the preload: nothing was monitored');
    return lines.join('\n');
  }
  const caught = summary.blockEvents || summary.blockedIntervals;
  lines.push(
    caught
      ? `  event loop blocked ≥ ${formatMs(summary.blockThresholdMs)}: ${summary.blockEvents ? `${summary.blockEvents} block event(s)` : `${summary.blockedIntervals} sampled interval(s)`}, longest ${formatMs(summary.longestDelayMs)}`
      : `  event loop: no block ≥ ${formatMs(summary.blockThresholdMs)} (longest delay ${formatMs(summary.longestDelayMs)})`,
  );
  topBlockingStacks(run.blocks, 3).forEach((stack, i) => {
    const where = stack.frames.find((f) => !isNodeInternal(f)) ?? stack.frames[0];
    lines.push(
      `    #${i + 1} ${stack.count}× ${formatMs(stack.totalMs)} total${where ? ` at ${formatFrame(where)}` : ''}`,
    );
  });
  if (caught && summary.blockStacksError) lines.push(`    (no stacks: ${summary.blockStacksError})`);
  lines.push(
    `  GC: ${summary.gc.count} collections (${summary.gc.majorCount} major), ${formatMs(summary.gc.pauseMs)} paused, longest ${formatMs(summary.gc.maxPauseMs)}`,
  );
  lines.push(
    `  memory: peak RSS ${formatBytes(summary.peakRssBytes)}, peak heap used ${formatBytes(summary.peakHeapUsedBytes)}`,
  );
  if (summary.syncIo) {
    const io = summary.syncIo;
    lines.push(
      `  synchronous I/O after start-up: ${io.totalCalls} call(s), ${formatMs(io.totalMs)}${io.sites.length ? ', by call site:' : ''}`,
    );
    for (const site of io.sites.slice(0, 5)) {
      lines.push(
        `    ${site.call} ×${site.count}, ${formatMs(site.totalMs)} in ${site.caller.functionName} (${site.caller.file}:${site.caller.line})`,
      );
    }
  }
  if (summary.reportFiles.length) {
    lines.push(`  reports (${summary.reportFiles.length}):`);
    for (const f of summary.reportFiles.slice(0, 10)) lines.push(`    ${f}`);
    if (summary.reportFiles.length > 10) lines.push(`    … ${summary.reportFiles.length - 10} more`);
  }
  if (caught) lines.push('  for a diagnosis with charts: hangwatch doctor -- <command>');
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, command } = parseCommandLine(argv, {
    'block-ms': { type: 'string' },
    'report-dir': { type: 'string' },
    format: { type: 'string' },
    interval: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const blockMs = numberArg(values, 'block-ms', { min: 10, max: 3_600_000 }) ?? 100;
  const intervalMs = numberArg(values, 'interval', { min: 20, max: 60_000 }) ?? 1000;
  const format = stringArg(values, 'format') ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be "text" or "json"; got ${JSON.stringify(format)}`);
  const [file, ...args] = command;
  if (!file) throw new UsageError('no command given: put it after --, e.g. hangwatch run -- node app.js');

  // The program stays in the terminal's process group: Ctrl-C and terminal input reach it
  // directly, so hangwatch only outlives its SIGINT and waits for the program to exit. A SIGTERM
  // or SIGHUP sent to hangwatch itself is passed on to the program (superviseRun).
  const onSigint = (): void => {};
  process.on('SIGINT', onSigint);
  let result: SupervisedRun;
  try {
    result = await superviseRun({
      command: file,
      args,
      intervalMs,
      detached: false,
      env: {
        HANGWATCH_BLOCK_MS: String(blockMs),
        HANGWATCH_FORMAT: format,
        HANGWATCH_REPORT_DIR: stringArg(values, 'report-dir') ?? 'hangwatch-reports',
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const summary = summarizeRun(result, blockMs);
  process.stderr.write(`${values.json ? JSON.stringify(summary) : renderRunSummaryText(summary, result)}\n`);
  return exitCodeOf(result.exitCode, result.signal);
}
