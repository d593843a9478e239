/**
 * In-process sampler: every interval, one `IntervalSample` with CPU, memory, handles,
 * event-loop delay (a probe timer recorded in a `perf_hooks` histogram), event-loop utilization and GC
 * (from `perf_hooks` 'gc' entries). This is the data the doctor always has, whether or not the
 * block monitor could capture stacks. Everything is unref'd: the sampler never keeps a program alive.
 */
import {
  constants,
  createHistogram,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
  type PerformanceEntry,
  type RecordableHistogram,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { recentSelfPauses, selfPauseTotalMs } from '../capture/self-pause.js';
import { functionOption, numberOption, optionalObject, optionKeys } from '../validate.js';

const INTERVAL_SAMPLER_OPTION_KEYS = optionKeys<IntervalSamplerOptions>({
  intervalMs: true,
  resolutionMs: true,
  onSample: true,
});

export interface LoopDelaySummary {
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface GcSummary {
  /** Collections that ended in the interval. */
  count: number;
  /** Of which major (mark-sweep-compact). */
  majorCount: number;
  /** Total pause, ms. */
  pauseMs: number;
  maxPauseMs: number;
  /** Collections that hangwatch caused (a heap snapshot's), not counted above. */
  hangwatchCount?: number;
}

export interface IntervalSample {
  /** Milliseconds since the sampler started, at the end of the interval. */
  t: number;
  /** Real length of the interval (longer than asked when the loop was blocked). */
  intervalMs: number;
  /** Share of one core used in the interval (user + system), in %. */
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** All handles and requests keeping the loop alive. */
  activeHandles: number;
  /** Of those, operations in flight: requests (fs, dns, writes...) and timers. */
  pendingOperations: number;
  handlesByType: Record<string, number>;
  loopDelay: LoopDelaySummary;
  /** Event-loop utilization in the interval, 0..1. */
  loopUtilization: number;
  gc: GcSummary;
  /**
   * Time hangwatch itself held the event loop in the interval (a heap snapshot, the CPU profiler,
   * a report), ms. It is taken out of `loopDelay` and `loopUtilization`: those are the program's.
   */
  selfPauseMs?: number;
  /**
   * Heap used right after the interval's last major (mark-sweep-compact) collection, when it had
   * one that hangwatch did not cause: the memory the program keeps alive, without its garbage.
   */
  heapAfterGcBytes?: number;
  /**
   * Heap used outside the young generation (old, code and large-object spaces). It changes only
   * when a collection promotes survivors or frees old objects (and for objects too large for the
   * young generation), so unlike `heapUsedBytes` it does not rise and fall with young garbage.
   */
  oldGenerationBytes?: number;
  /**
   * Heap used right after the interval's last live-heap probe (a full collection hangwatch ran on
   * purpose, lib/process/live-heap-probe.ts): exactly the memory the program keeps alive.
   */
  liveHeapBytes?: number;
}

export interface IntervalSamplerOptions {
  /** Sampling interval, ms. Default 1000, at least 20. */
  intervalMs?: number;
  /** Period of the event-loop delay probe, ms. Default 20 (50 wake-ups a second; the block threshold is 100 ms). */
  resolutionMs?: number;
  onSample?: (sample: IntervalSample) => void;
}

export interface IntervalSampler {
  /** Take a sample now (ends the current interval); also what `stop()` does last. */
  sampleNow(): IntervalSample;
  /** Samples taken so far, oldest first (at most the last 10 000). */
  samples(): IntervalSample[];
  stop(): void;
}

// Handles that live as long as a server, socket or terminal: not "work in flight".
const PENDING = /Req|^Timeout$|^Immediate$|^(?:Write|Shutdown|Connect|Query)Wrap$/;

/** Whether a `getActiveResourcesInfo()` type is an operation in flight (request or timer) rather than a long-lived handle. */
export function isPendingOperation(type: string): boolean {
  return PENDING.test(type);
}

const MAX_KEPT = 10_000;

const isMajor = (entry: PerformanceEntry): boolean =>
  (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
  return used;
}

/** Whether a GC that started at `startTime` (performance timeline, ms) ran inside one of hangwatch's pauses. */
function duringSelfPause(startTime: number): boolean {
  const at = performance.timeOrigin + startTime;
  return recentSelfPauses().some((p) => at >= p.startedAtMs - 1 && at <= p.startedAtMs + p.durationMs + 1);
}
const NS_PER_MS = 1e6;

function summarizeDelay(h: RecordableHistogram): LoopDelaySummary {
  if (h.count === 0) return { minMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return {
    minMs: h.min / NS_PER_MS,
    meanMs: h.mean / NS_PER_MS,
    p50Ms: h.percentile(50) / NS_PER_MS,
    p99Ms: h.percentile(99) / NS_PER_MS,
    maxMs: h.max / NS_PER_MS,
  };
}

/**
 * Event-loop delay: a timer that should fire every `resolutionMs` records by how much it was
 * late. (`monitorEventLoopDelay` cannot be reset per interval: its reset drops the next tick,
 * so on a loop that ticks once per interval — a blocked one — every interval would read 0.)
 * The lateness of a tick that spans two intervals is recorded in the interval where it ends.
 * hangwatch's own pauses (lib/capture/self-pause.ts) are taken out of the lateness.
 */
function startDelayProbe(resolutionMs: number): { histogram: RecordableHistogram; stop(): void } {
  const histogram = createHistogram();
  let previous = process.hrtime.bigint();
  let previousSelfMs = selfPauseTotalMs();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    // hangwatch's own pauses since the last tick are not the program's delay.
    const selfMs = selfPauseTotalMs();
    const lateNs = Number(now - previous) - resolutionMs * NS_PER_MS - (selfMs - previousSelfMs) * NS_PER_MS;
    previous = now;
    previousSelfMs = selfMs;
    histogram.record(Math.max(1, Math.round(lateNs)));
  }, resolutionMs);
  timer.unref();
  return { histogram, stop: () => clearInterval(timer) };
}

/** Start sampling this process. Throws `InvalidOptionError` for bad options. */
export function startIntervalSampler(options?: IntervalSamplerOptions): IntervalSampler {
  const opts = optionalObject<IntervalSamplerOptions>('options', options, INTERVAL_SAMPLER_OPTION_KEYS);
  const intervalMs = numberOption('intervalMs', opts.intervalMs, 1000, { min: 20, max: 3_600_000 });
  const resolutionMs = numberOption('resolutionMs', opts.resolutionMs, 20, { min: 1, max: 1000, integer: true });
  const onSample = functionOption<(s: IntervalSample) => void>('onSample', opts.onSample);

  const probe = startDelayProbe(resolutionMs);
  const histogram = probe.histogram;
  let gc: GcSummary = { count: 0, majorCount: 0, pauseMs: 0, maxPauseMs: 0 };
  let heapAfterGc: number | undefined;
  const addGc = (entry: PerformanceEntry): void => {
    if (duringSelfPause(entry.startTime)) {
      gc.hangwatchCount = (gc.hangwatchCount ?? 0) + 1;
      return;
    }
    gc.count++;
    gc.pauseMs += entry.duration;
    if (entry.duration > gc.maxPauseMs) gc.maxPauseMs = entry.duration;
    if (isMajor(entry)) gc.majorCount++;
  };
  const addGcs = (entries: PerformanceEntry[]): void => {
    entries.forEach(addGc);
    // Entries come shortly after their collection: the heap now is (nearly) the heap after it.
    if (entries.some((e) => isMajor(e) && !duringSelfPause(e.startTime)))
      heapAfterGc = getHeapStatistics().used_heap_size;
  };
  const observer = new PerformanceObserver((list) => addGcs(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });

  const startedAt = performance.now();
  let lastAt = startedAt;
  let lastCpu = process.cpuUsage();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let lastSelfMs = selfPauseTotalMs();
  const kept: IntervalSample[] = [];
  let stopped = false;

  function sampleNow(): IntervalSample {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const elu = performance.eventLoopUtilization(lastElu);
    const memory = process.memoryUsage();
    const types = process.getActiveResourcesInfo();
    const handlesByType: Record<string, number> = {};
    let pendingOperations = 0;
    for (const type of types) {
      handlesByType[type] = (handlesByType[type] ?? 0) + 1;
      if (isPendingOperation(type)) pendingOperations++;
    }
    // Entries of GCs that ended just now may still be queued for the observer: take them too.
    addGcs(observer.takeRecords());
    const selfMs = selfPauseTotalMs();
    const selfPauseMs = selfMs - lastSelfMs;
    const intervalMs = now - lastAt;
    // The loop was busy while hangwatch held it: that part of the utilization is not the program's.
    const busyMs = Math.max(0, elu.active - selfPauseMs);
    const sample: IntervalSample = {
      t: now - startedAt,
      intervalMs,
      cpuPercent: intervalMs > 0 ? ((cpu.user + cpu.system) / 1000 / intervalMs) * 100 : 0,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      oldGenerationBytes: oldGenerationUsed(),
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      activeHandles: types.length,
      pendingOperations,
      handlesByType,
      loopDelay: summarizeDelay(histogram),
      loopUtilization: elu.idle + elu.active > 0 ? busyMs / (elu.idle + elu.active) : elu.utilization,
      gc,
    };
    if (selfPauseMs > 0) sample.selfPauseMs = selfPauseMs;
    if (heapAfterGc !== undefined) sample.heapAfterGcBytes = heapAfterGc;
    heapAfterGc = undefined;
    lastSelfMs = selfMs;
    histogram.reset();
    gc = { count: 0, majorCount: 0, pauseMs: 0, maxPauseMs: 0 };
    lastAt = now;
    lastCpu = process.cpuUsage();
    lastElu = performance.eventLoopUtilization();
    kept.push(sample);
    if (kept.length > MAX_KEPT) kept.splice(0, kept.length - MAX_KEPT);
    if (onSample) {
      try {
        onSample(sample);
      } catch {
        // a failing consumer must not stop sampling nor reach the host program
      }
    }
    return sample;
  }

  const timer = setInterval(sampleNow, intervalMs);
  timer.unref();

  return {
    sampleNow,
    samples: () => kept.slice(),
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      sampleNow();
      probe.stop();
      observer.disconnect();
    },
  };
}
