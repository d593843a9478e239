/**
 * `sampleProcess(pid?)`: CPU %, memory and handles of this process (from inside) or of any
 * other process (from /proc on Linux).
 */
import { performance } from 'node:perf_hooks';
import { requiredNumber } from '../validate.js';
import { ProcfsUsageReader, procfsAvailable } from '../../native-free-fallbacks/procfs-process-usage.js';
import { ProcessSamplingUnsupportedError } from './errors.js';

export interface ResourceSample {
  pid: number;
  /** Wall-clock time of the sample, ms since the epoch. */
  timestamp: number;
  /** Milliseconds since the process started. */
  elapsedMs: number;
  /**
   * Share of one core used since the previous `sampleProcess` of the same pid (100 = one full
   * core; can exceed 100 with worker threads). The first sample of a pid is the average since start.
   */
  cpuPercent: number;
  rssBytes: number;
  /** Only for this process. */
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  externalBytes?: number;
  /** Only for this process: handles and requests keeping the loop alive (`process.getActiveResourcesInfo()`). */
  activeHandles?: number;
  /** Only for another process: from /proc. */
  name?: string;
  state?: string;
  threads?: number;
  source: 'in-process' | 'procfs';
}

const procfs = new ProcfsUsageReader();
let ownPrevious: { cpuMicros: number; at: number } | undefined;

/** Number of handles and requests that keep the event loop alive, counted the way Node reports them. */
export function activeResourceCount(): number | undefined {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  return typeof info === 'function' ? info.call(process).length : undefined;
}

function sampleSelf(): ResourceSample {
  const usage = process.cpuUsage();
  const cpuMicros = usage.user + usage.system;
  const now = performance.now();
  const previous = ownPrevious ?? { cpuMicros: 0, at: 0 };
  ownPrevious = { cpuMicros, at: now };
  const wallMs = now - previous.at;
  const memory = process.memoryUsage();
  const sample: ResourceSample = {
    pid: process.pid,
    timestamp: Date.now(),
    elapsedMs: process.uptime() * 1000,
    cpuPercent: wallMs > 0 ? Math.max(0, (cpuMicros - previous.cpuMicros) / 1000 / wallMs) * 100 : 0,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    source: 'in-process',
  };
  const handles = activeResourceCount();
  if (handles !== undefined) sample.activeHandles = handles;
  return sample;
}

/**
 * Sample a process. Without `pid` (or with this process's pid) the sample is taken from inside
 * and includes heap and handles; for another pid it is read from /proc (Linux only).
 *
 * @throws InvalidOptionError for a pid that is not a positive integer
 * @throws ProcessNotFoundError when no such process exists
 * @throws ProcessSamplingUnsupportedError for another pid on a platform without /proc
 */
export function sampleProcess(pid?: number): ResourceSample {
  if (pid === undefined || pid === process.pid) return sampleSelf();
  requiredNumber('pid', pid, { min: 1, integer: true });
  if (!procfsAvailable()) {
    throw new ProcessSamplingUnsupportedError(`hangwatch: sampling another process needs /proc (Linux); platform is ${process.platform}`);
  }
  const reading = procfs.read(pid);
  return {
    pid,
    timestamp: Date.now(),
    elapsedMs: reading.elapsedMs,
    cpuPercent: reading.cpuPercent,
    rssBytes: reading.rssBytes,
    name: reading.name,
    state: reading.state,
    threads: reading.threads,
    source: 'procfs',
  };
}
