/**
 * `hangwatch top <pid>`: live CPU and memory of any process (from /proc on Linux, through
 * `pidusage` elsewhere).
 */
import { HangwatchError } from '../errors.js';
import { sampleProcess, type ResourceSample } from '../process/sample-process.js';
import { formatBytes } from '../report/format-units.js';
import { numberArg, parseCommandLine } from './cli-args.js';
import { UsageError } from './errors.js';

export const usage = `Usage: hangwatch top [options] <pid>

Shows the CPU and memory of process <pid>, refreshed every interval, until it exits or you
press Ctrl-C. Reads /proc on Linux (with thread count and state); elsewhere asks pidusage
(ps on macOS and the BSDs, wmic or PowerShell on Windows).

Options:
  --interval <ms>   refresh interval, default 1000 (100..60000)
  --count <n>       stop after <n> samples
  --json            one JSON object per sample (NDJSON) on stdout
  -h, --help        this help

Exit codes: 0 done (including when the process exits while watched), 1 no such process or
it cannot be sampled on this platform, 2 bad arguments.`;

function line(s: ResourceSample): string {
  const time = new Date(s.timestamp).toISOString().slice(11, 19);
  return `${time}  pid ${s.pid}  ${(s.name ?? '').padEnd(15)}  ${(s.state ?? '?').padEnd(1)}  cpu ${s.cpuPercent.toFixed(1).padStart(5)}%  rss ${formatBytes(s.rssBytes).padStart(9)}  threads ${String(s.threads ?? '?').padStart(3)}  up ${(s.elapsedMs / 1000).toFixed(0)} s`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { interval: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' } },
    { allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(positionals.length ? `one pid expected; got ${positionals.join(' ')}` : 'a pid is required');
  const pid = Number(positionals[0]);
  if (!Number.isInteger(pid) || pid < 1)
    throw new UsageError(`pid must be a positive integer; got ${JSON.stringify(positionals[0])}`);
  const intervalMs = numberArg(values, 'interval', { min: 100, max: 60_000 }) ?? 1000;
  const count = numberArg(values, 'count', { min: 1, max: 1e9, integer: true });
  const json = Boolean(values.json);
  const tty = Boolean(process.stdout.isTTY) && !json;

  let stopped = false;
  let wake: (() => void) | undefined;
  const onSigint = (): void => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
  try {
    let first = true;
    // The first reading is the average since the process started; the next ones are per interval.
    for (let n = 0; !stopped && (count === undefined || n < count); n++) {
      let sample: ResourceSample;
      try {
        sample = await sampleProcess(pid);
      } catch (error) {
        if (!first && error instanceof HangwatchError && error.code === 'ERR_PROCESS_NOT_FOUND') {
          if (tty) process.stdout.write('\n');
          process.stderr.write(`hangwatch top: process ${pid} exited\n`);
          return 0;
        }
        throw error;
      }
      first = false;
      if (json) process.stdout.write(`${JSON.stringify(sample)}\n`);
      else if (tty) process.stdout.write(`\r${line(sample)}\u001b[K`);
      else process.stdout.write(`${line(sample)}\n`);
      if (count !== undefined && n + 1 >= count) break;
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
    }
    if (tty) process.stdout.write('\n');
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
