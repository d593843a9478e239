/**
 * CPU and memory of any process on Linux, read from `/proc/<pid>/stat` and `/proc/<pid>/status`
 * (as `pidusage` does on Linux; hangwatch uses pidusage only where there is no /proc). CPU % is the share of one core used
 * between two readings of the same pid; the first reading of a pid gives the average since the
 * process started.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ProcessUsageReader } from '../lib/capture/process-usage-reader.js';
import { ProcessNotFoundError, ProcessSamplingUnsupportedError } from '../lib/process/errors.js';

/** USER_HZ: the unit of the time fields in /proc/<pid>/stat. 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStatReading {
  pid: number;
  /** Command name from /proc (truncated by the kernel to 15 characters). */
  name: string;
  /** One-letter state: R running, S sleeping, D disk wait, Z zombie, T stopped... */
  state: string;
  ppid: number;
  /** User + system CPU time, in milliseconds, since the process started. */
  cpuTimeMs: number;
  /** Milliseconds since the process started. */
  elapsedMs: number;
  /** When the process started, in milliseconds after boot (identifies the process when pids are recycled). */
  startedAfterBootMs: number;
  rssBytes: number;
  virtualBytes: number;
  threads: number;
}

export function procfsAvailable(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    readFileSync('/proc/self/stat', 'latin1');
    return true;
  } catch {
    return false;
  }
}

function readProcFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new ProcessNotFoundError(pid, { cause: error });
    if (process.platform !== 'linux') {
      throw new ProcessSamplingUnsupportedError(
        `hangwatch: sampling another process needs /proc (Linux); platform is ${process.platform}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Parse the text of /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces or ')'. */
export function parseProcStat(text: string): {
  name: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  starttime: number;
  vsize: number;
  rssPages: number;
  threads: number;
} {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`unexpected /proc stat format: ${text.slice(0, 80)}`);
  const name = text.slice(open + 1, close);
  // Fields after the name start at field 3 (state); index 0 here is field 3.
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const num = (field: number): number => Number(f[field - 3]);
  return {
    name,
    state: f[0] ?? '?',
    ppid: num(4),
    utime: num(14),
    stime: num(15),
    threads: num(20),
    starttime: num(22),
    vsize: num(23),
    rssPages: num(24),
  };
}

/** `VmRSS:   2144 kB` → bytes; undefined when absent (kernel threads, zombies). */
export function statusField(status: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status);
  return match?.[1]?.trim();
}

function uptimeMs(): number {
  const text = readFileSync('/proc/uptime', 'latin1');
  return Number(text.split(/\s+/)[0]) * 1000;
}

export function readProcStat(pid: number): ProcStatReading {
  const stat = parseProcStat(readProcFile(pid, 'stat'));
  let rssBytes: number | undefined;
  try {
    const rss = statusField(readProcFile(pid, 'status'), 'VmRSS');
    if (rss !== undefined) rssBytes = Number.parseInt(rss, 10) * 1024;
  } catch {
    // status can vanish between the two reads; fall back to the page count below
  }
  const msPerTick = 1000 / CLOCK_TICKS_PER_SECOND;
  return {
    pid,
    name: programName(pid, stat.name),
    state: stat.state,
    ppid: stat.ppid,
    cpuTimeMs: (stat.utime + stat.stime) * msPerTick,
    elapsedMs: Math.max(0, uptimeMs() - stat.starttime * msPerTick),
    startedAfterBootMs: stat.starttime * msPerTick,
    rssBytes: rssBytes ?? stat.rssPages * 4096,
    virtualBytes: stat.vsize,
    threads: stat.threads,
  };
}

/**
 * The Linux backend of `ProcessUsageReader`. Keeps the previous reading per pid so that each call
 * reports CPU % over the interval since the last one. /proc is read synchronously (a few µs);
 * `read` returns a promise only to share the interface with the pidusage backend.
 */
export class ProcfsUsageReader implements ProcessUsageReader {
  readonly source = 'procfs' as const;
  readonly #previous = new Map<number, { cpuTimeMs: number; at: number; startedAfterBootMs: number }>();

  async read(pid: number): Promise<ProcStatReading & { cpuPercent: number }> {
    const reading = readProcStat(pid);
    const now = performance.now();
    const previous = this.#previous.get(pid);
    this.#previous.set(pid, { cpuTimeMs: reading.cpuTimeMs, at: now, startedAfterBootMs: reading.startedAfterBootMs });
    let cpuPercent: number;
    if (previous && previous.startedAfterBootMs === reading.startedAfterBootMs && now > previous.at) {
      cpuPercent = ((reading.cpuTimeMs - previous.cpuTimeMs) / (now - previous.at)) * 100;
    } else {
      // First reading of this process (or the pid was recycled): average since it started.
      cpuPercent = reading.elapsedMs > 0 ? (reading.cpuTimeMs / reading.elapsedMs) * 100 : 0;
    }
    return { ...reading, cpuPercent: Math.max(0, cpuPercent) };
  }

  forget(pid: number): void {
    this.#previous.delete(pid);
  }
}

/**
 * The process's name: the kernel's command name, except where the program renamed its main thread
 * (Node 24 names it "MainThread", which is what /proc/<pid>/stat then shows): the file name of its
 * first argument instead.
 */
function programName(pid: number, comm: string): string {
  if (comm !== 'MainThread') return comm;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] ?? '';
    const base = argv0.slice(argv0.lastIndexOf('/') + 1);
    return base || comm;
  } catch {
    return comm;
  }
}
