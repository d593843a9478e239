/**
 * `sampleProcess(pid?)`: CPU %, memory and handles of this process (from inside, synchronously)
 * or of any other process (from outside: /proc on Linux, `pidusage` elsewhere — asynchronously,
 * since `ps` or `wmic` is a subprocess).
 */
import { performance } from 'node:perf_hooks';
import { createProcessUsageReader, type ProcessUsageReader } from '../capture/process-usage.js';
import { requiredNumber } from '../validate.js';

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
  /** Only for another process, and only from /proc (Linux). */
  name?: string;
  state?: string;
  threads?: number;
  /** Where the sample comes from: this process itself, /proc, or `pidusage` (`ps`, `wmic`). */
  source: 'in-process' | 'procfs' | 'pidusage';
}

let reader: ProcessUsageReader | undefined;
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
 * Sample a process. Without `pid` the sample is taken from inside this process, synchronously,
 * and includes heap and handles. With a pid, the promise of a sample of that process read from
 * outside — /proc on Linux, `pidusage` elsewhere (`HANGWATCH_PROCESS_SAMPLER` forces one) — or,
 * for this process's own pid, of the inside sample.
 *
 * @throws (rejects with) InvalidOptionError for a pid that is not a positive integer, or a bad
 *   `HANGWATCH_PROCESS_SAMPLER`
 * @throws (rejects with) ProcessNotFoundError when no such process exists
 * @throws (rejects with) ProcessSamplingUnsupportedError when neither /proc nor pidusage works here
 */
export function sampleProcess(): ResourceSample;
export function sampleProcess(pid: number): Promise<ResourceSample>;
export function sampleProcess(pid?: number): ResourceSample | Promise<ResourceSample>;
export function sampleProcess(pid?: number): ResourceSample | Promise<ResourceSample> {
  return pid === undefined ? sampleSelf() : sampleOther(pid);
}

async function sampleOther(pid: number): Promise<ResourceSample> {
  requiredNumber('pid', pid, { min: 1, integer: true });
  if (pid === process.pid) return sampleSelf();
  reader ??= createProcessUsageReader();
  const usage = await reader.read(pid);
  const sample: ResourceSample = {
    pid,
    timestamp: Date.now(),
    elapsedMs: usage.elapsedMs,
    cpuPercent: usage.cpuPercent,
    rssBytes: usage.rssBytes,
    source: reader.source,
  };
  if (usage.name !== undefined) sample.name = usage.name;
  if (usage.state !== undefined) sample.state = usage.state;
  if (usage.threads !== undefined) sample.threads = usage.threads;
  return sample;
}
