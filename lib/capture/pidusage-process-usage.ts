/**
 * The `ProcessUsageReader` backend for platforms without /proc: the `pidusage` package, which runs
 * `ps` (macOS, the BSDs) or `wmic`/PowerShell (Windows) per reading. Loaded on first use, so that
 * Linux, which reads /proc, never loads it.
 *
 * CPU % is computed here, from pidusage's cumulative CPU time (`ctime`) and this process's
 * monotonic clock between two readings, not from pidusage's own `cpu`, which divides by the
 * process's elapsed time as `ps` prints it (whole seconds).
 */
import { performance } from 'node:perf_hooks';
import { ProcessNotFoundError, ProcessSamplingUnsupportedError } from '../process/errors.js';
import type { ProcessUsage, ProcessUsageReader } from './process-usage-reader.js';

/** What pidusage returns for one pid (see its README). */
interface PidusageStat {
  cpu: number;
  /** RSS (working set on Windows), bytes. */
  memory: number;
  ppid: number;
  pid: number;
  /** User + system CPU time, ms. */
  ctime: number;
  /** Time since the process started, ms. */
  elapsed: number;
  timestamp: number;
}
type Pidusage = (pid: number, options: { usePs?: boolean }) => Promise<PidusageStat | undefined>;

const MODULE_NAME = 'pidusage';
let loaded: Promise<Pidusage> | undefined;

function load(): Promise<Pidusage> {
  loaded ??= import(MODULE_NAME).then(
    (mod: { default?: Pidusage } & Pidusage) => mod.default ?? mod,
    (err: unknown) => {
      loaded = undefined;
      throw new ProcessSamplingUnsupportedError(
        `hangwatch: sampling another process on ${process.platform} needs the "pidusage" package, which failed to load`,
        { cause: err },
      );
    },
  );
  return loaded;
}

export interface PidusageUsageReaderOptions {
  /**
   * Make pidusage run `ps` even where it would read /proc itself (Linux): the code path of macOS,
   * for tests. Default: pidusage's own choice (its `PIDUSAGE_USE_PS` environment variable also works).
   */
  usePs?: boolean;
}

export class PidusageUsageReader implements ProcessUsageReader {
  readonly source = 'pidusage' as const;
  readonly #options: { usePs?: boolean };
  readonly #previous = new Map<number, { cpuTimeMs: number; at: number; ppid: number }>();

  constructor(options: PidusageUsageReaderOptions = {}) {
    this.#options = options.usePs ? { usePs: true } : {};
  }

  async read(pid: number): Promise<ProcessUsage> {
    const pidusage = await load();
    let stat: PidusageStat | undefined;
    try {
      stat = await pidusage(pid, this.#options);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' || /no matching pid/i.test(e.message))
        throw new ProcessNotFoundError(pid, { cause: error });
      throw new ProcessSamplingUnsupportedError(
        `hangwatch: cannot sample process ${pid} through pidusage on ${process.platform}: ${e.message.trim()}`,
        { cause: error },
      );
    }
    if (!stat || !Number.isFinite(stat.ctime) || !Number.isFinite(stat.memory)) throw new ProcessNotFoundError(pid);
    const now = performance.now();
    const previous = this.#previous.get(pid);
    this.#previous.set(pid, { cpuTimeMs: stat.ctime, at: now, ppid: stat.ppid });
    let cpuPercent: number;
    // Another parent or less CPU time than before: the pid was recycled, start over.
    if (previous && previous.ppid === stat.ppid && stat.ctime >= previous.cpuTimeMs && now > previous.at) {
      cpuPercent = ((stat.ctime - previous.cpuTimeMs) / (now - previous.at)) * 100;
    } else {
      cpuPercent = stat.elapsed > 0 ? (stat.ctime / stat.elapsed) * 100 : 0;
    }
    return {
      pid,
      cpuPercent: Math.max(0, cpuPercent),
      rssBytes: stat.memory,
      cpuTimeMs: stat.ctime,
      elapsedMs: Math.max(0, stat.elapsed),
      ppid: stat.ppid,
    };
  }

  forget(pid: number): void {
    this.#previous.delete(pid);
  }
}
