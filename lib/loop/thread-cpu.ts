/**
 * The CPU time of the calling thread over a period of wall-clock time, to tell a blocked event loop
 * (the thread ran on a CPU for most of the period: synchronous work) from a starved one (it was
 * off CPU: the process was not scheduled, or was stopped).
 *
 * Sources, best first, behind feature checks:
 * - `process.threadCpuUsage()` (Node ≥ 23.9 and the later 22.x): one `getrusage(RUSAGE_THREAD)`
 *   call, cheap enough to read on every heartbeat tick, so the measured window is the block itself;
 * - Linux: utime + stime of `/proc/thread-self/stat` (clock ticks, 100 per second), read through a
 *   descriptor kept open. A read costs tens of µs, so it is taken at most every
 *   `PROC_MIN_INTERVAL_MS`: the measured window then starts up to that long before the block, and
 *   the verdict accounts for it (see `classifyCpuWindow`);
 * - elsewhere: unknown.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

export type BlockCause = 'blocked' | 'starved' | 'unknown';

export type ThreadCpuSource = 'threadCpuUsage' | 'procfs';

/** A thread's CPU time over a window that contains a block. */
export interface CpuWindow {
  /** CPU time (user + system) the thread used in the window, ms. */
  cpuMs: number;
  /** Wall-clock length of the window, ms (the block plus what came just before it). */
  windowMs: number;
  /** How far `cpuMs` may be off: 0 for threadCpuUsage (µs), one clock tick (10 ms) for /proc. */
  resolutionMs: number;
  source: ThreadCpuSource;
}

/** The verdict on a block of `durationMs` from the thread's CPU time over a window containing it. */
export interface BlockCpuVerdict {
  cause: BlockCause;
  /** CPU time the thread used over the block: `cpuMs` of the window, at most the block's length. */
  cpuMs: number | undefined;
}

/** Read `/proc` at most this often: a read costs tens of µs, too much for every heartbeat tick. */
export const PROC_MIN_INTERVAL_MS = 100;

/**
 * The rule. During a block the loop does not turn, so all the CPU time the thread used in it went
 * to the one piece of synchronous work that held the loop. Let `need` be the smaller of the
 * threshold and half the block:
 * - `blocked` when that work used at least `need` of CPU: on its own it would have held the loop
 *   for a threshold, or the thread was on CPU for most of the block (a long block stretched by a
 *   busy machine is still a block, and its CPU time says how much of it was the code's);
 * - `starved` when it used less: most of the block the thread was not running (the process was not
 *   scheduled or was stopped, or the thread slept inside a synchronous system call);
 * - `unknown` when there is no CPU clock, or the clock is too coarse to tell (only with `/proc`).
 *
 * With a window longer than the block (`/proc`), the CPU time before the block is not known: a
 * verdict is given only when it holds whatever that time was (all of it on CPU, or none of it).
 */
export function classifyCpuWindow(
  durationMs: number,
  thresholdMs: number,
  window: CpuWindow | undefined,
): BlockCpuVerdict {
  if (!window || !(durationMs > 0)) return { cause: 'unknown', cpuMs: undefined };
  const before = Math.max(0, window.windowMs - durationMs);
  const cpuAtLeast = Math.max(0, window.cpuMs - window.resolutionMs - before);
  const cpuAtMost = Math.min(durationMs, window.cpuMs + window.resolutionMs);
  const need = Math.min(thresholdMs, durationMs / 2);
  const cpuMs = Math.round(Math.min(durationMs, window.cpuMs));
  if (cpuAtLeast >= need) return { cause: 'blocked', cpuMs };
  if (cpuAtMost < need) return { cause: 'starved', cpuMs };
  return { cause: 'unknown', cpuMs };
}

/** Load average over the last minute (none on Windows) and the CPU count, to judge a starved verdict. */
export function schedulingContext(): { loadAverage: number | undefined; cpus: number } {
  const loadAverage = process.platform === 'win32' ? undefined : Math.round((loadavg()[0] ?? 0) * 10) / 10;
  return { loadAverage, cpus: availableParallelism() };
}

/**
 * One sentence on what the thread did during a block of `durationMs`, e.g. "the main thread ran
 * on CPU for 430 of 450 ms: the loop was blocked"; undefined when nothing is known.
 */
export function describeBlockCause(
  who: string,
  durationMs: number,
  v: { cause: BlockCause; cpuMs?: number | undefined; loadAverage?: number | undefined; cpus?: number | undefined },
): string | undefined {
  if (v.cpuMs === undefined) return undefined;
  const cpu = Math.round(v.cpuMs);
  const total = Math.round(durationMs);
  const load =
    v.loadAverage === undefined
      ? ''
      : `; load average ${v.loadAverage}${v.cpus ? ` on ${v.cpus} CPU${v.cpus > 1 ? 's' : ''}` : ''}`;
  switch (v.cause) {
    case 'blocked':
      return cpu * 2 >= total
        ? `${who} ran on CPU for ${cpu} of ${total} ms: the loop was blocked`
        : `${who} ran on CPU for ${cpu} of ${total} ms: the loop was blocked by synchronous work, stretched by the process not being scheduled${load ? ` (${load.slice(2)})` : ''}`;
    case 'starved':
      return v.loadAverage !== undefined && v.cpus !== undefined && v.loadAverage < v.cpus
        ? `${who} used ${cpu} ms of CPU in ${total} ms: it was not running — the process was stopped or throttled, or the thread slept inside a synchronous call (starved${load})`
        : `${who} used ${cpu} ms of CPU in ${total} ms: the process was not scheduled (starved${load})`;
    case 'unknown':
      return `${who} used about ${cpu} ms of CPU in ${total} ms (measured too coarsely to tell a blocked loop from a starved process)`;
  }
}

type ReadCpuMs = () => number | undefined;

interface Clock {
  source: ThreadCpuSource;
  read: ReadCpuMs;
}

let clock: Clock | null | undefined;

/** The thread CPU clock of this Node/platform, or null when there is none. */
export function threadCpuClock(): Clock | null {
  if (clock !== undefined) return clock;
  clock = detectClock();
  return clock;
}

function detectClock(): Clock | null {
  const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof usage === 'function') {
    try {
      const u = usage.call(process);
      if (Number.isFinite(u.user) && Number.isFinite(u.system)) {
        return {
          source: 'threadCpuUsage',
          read: () => {
            const v = usage.call(process);
            return (v.user + v.system) / 1000;
          },
        };
      }
    } catch {
      // not usable here; try /proc
    }
  }
  if (process.platform === 'linux') {
    const read = procStatReader();
    if (read && read() !== undefined) return { source: 'procfs', read };
  }
  return null;
}

/** Linux's USER_HZ: `/proc` counts CPU time in these ticks (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads utime + stime of the calling thread from `/proc/thread-self/stat`, in ms. The descriptor is
 * opened per thread (each thread has its own `thread-self`) and kept; a failed read gives undefined.
 */
function procStatReader(): ReadCpuMs | undefined {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/stat', 'r');
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(1024);
  let broken = false;
  return () => {
    if (broken) return undefined;
    try {
      const n = readSync(fd, buf, 0, buf.length, 0);
      const ms = parseProcStatCpuMs(buf.toString('latin1', 0, n));
      if (ms === undefined) throw new Error('unexpected /proc stat format');
      return ms;
    } catch {
      broken = true;
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      return undefined;
    }
  };
}

/**
 * utime + stime (fields 14 and 15) of a `/proc/<pid>/task/<tid>/stat` line, in ms. The command
 * name (field 2) is in parentheses and may contain spaces and parentheses: fields are counted
 * after its last `)`.
 */
export function parseProcStatCpuMs(line: string): number | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = line.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields[11] === '' || fields[12] === '') return undefined;
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The start of the current CPU window of one thread: marked at each heartbeat tick (on the hot
 * path only when the clock is a cheap system call; `/proc` at most every PROC_MIN_INTERVAL_MS),
 * measured when a block is reported.
 */
export class ThreadCpuWindow {
  private startAt = 0;
  private startCpuMs: number | undefined;

  constructor(private readonly clock: Clock | null = threadCpuClock()) {}

  get source(): ThreadCpuSource | undefined {
    return this.clock?.source;
  }

  /** The loop turned at `now`: start a new window (or keep the current one if /proc was read recently). */
  mark(now: number): void {
    const c = this.clock;
    if (!c) return;
    if (c.source === 'procfs' && this.startCpuMs !== undefined && now - this.startAt < PROC_MIN_INTERVAL_MS) return;
    this.startAt = now;
    this.startCpuMs = c.read();
  }

  /** CPU time since the window's start; call when a block ended at `now` (before `mark(now)`). */
  measure(now: number): CpuWindow | undefined {
    const c = this.clock;
    if (!c || this.startCpuMs === undefined) return undefined;
    const end = c.read();
    if (end === undefined) return undefined;
    return {
      cpuMs: Math.max(0, end - this.startCpuMs),
      windowMs: Math.max(0, now - this.startAt),
      resolutionMs: c.source === 'procfs' ? 1000 / CLOCK_TICKS_PER_SECOND : 0,
      source: c.source,
    };
  }
}
