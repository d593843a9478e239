/**
 * tracemalloc for Node: `startAllocationTracking()`, `takeAllocationSnapshot()`,
 * `getTracedMemory()`, `stopAllocationTracking()`. State is per thread (each worker tracks its own
 * heap). Everything is synchronous, as in Python: the in-thread inspector answers at once.
 */
import { createHeapSampler, type HeapSampler } from '../capture/heap-sampler.js';
import { ProfileFrameResolver } from '../capture/profile-frame.js';
import { booleanOption, numberOption, optionalObject, optionKeys } from '../validate.js';
import { AllocationTrackingNotStartedError, ProfilerBusyError } from './errors.js';
import { AllocationSnapshot } from './snapshot.js';

const ALLOCATION_TRACKING_OPTION_KEYS = optionKeys<AllocationTrackingOptions>({
  samplingIntervalBytes: true,
  stackDepth: true,
  includeCollected: true,
  peakPollIntervalMs: true,
  sourceMaps: true,
});

export interface AllocationTrackingOptions {
  /** Mean bytes between samples (default 32768 = 32 KiB, the inspector default). */
  samplingIntervalBytes?: number;
  /** Frames kept per trace, most recent first (default 128, V8's maximum; tracemalloc's nframe). */
  stackDepth?: number;
  /** Keep samples of collected objects too: snapshots then show everything allocated since start, not what is live. Default false. */
  includeCollected?: boolean;
  /** Poll the traced size this often (ms) to track the peak between calls; 0 disables (default 1000). */
  peakPollIntervalMs?: number;
  /** Map frames through source maps (default true). */
  sourceMaps?: boolean;
}

export const DEFAULT_SAMPLING_INTERVAL_BYTES = 32 * 1024;
export const MAX_STACK_DEPTH = 128;

interface Tracker {
  sampler: HeapSampler;
  options: Required<AllocationTrackingOptions>;
  resolver: ProfileFrameResolver;
  peak: number;
  timer: ReturnType<typeof setInterval> | undefined;
}

let tracker: Tracker | undefined;

function parse(options: unknown): Required<AllocationTrackingOptions> {
  const o = optionalObject<AllocationTrackingOptions>('options', options, ALLOCATION_TRACKING_OPTION_KEYS);
  return {
    samplingIntervalBytes: numberOption(
      'samplingIntervalBytes',
      o.samplingIntervalBytes,
      DEFAULT_SAMPLING_INTERVAL_BYTES,
      { min: 1, max: 2 ** 31 - 1, integer: true },
    ),
    stackDepth: numberOption('stackDepth', o.stackDepth, MAX_STACK_DEPTH, {
      min: 1,
      max: MAX_STACK_DEPTH,
      integer: true,
    }),
    includeCollected: booleanOption('includeCollected', o.includeCollected, false),
    peakPollIntervalMs: numberOption('peakPollIntervalMs', o.peakPollIntervalMs, 1000, { min: 0, max: 2 ** 31 - 1 }),
    sourceMaps: booleanOption('sourceMaps', o.sourceMaps, true),
  };
}

function sameOptions(a: Required<AllocationTrackingOptions>, b: Required<AllocationTrackingOptions>): boolean {
  return (Object.keys(a) as Array<keyof AllocationTrackingOptions>).every((k) => a[k] === b[k]);
}

/** Live sampled bytes right now; also raises the peak. */
function observe(t: Tracker): number {
  const profile = t.sampler.profile();
  let current = 0;
  if (Array.isArray(profile.samples)) for (const s of profile.samples) current += s.size;
  if (current > t.peak) t.peak = current;
  return current;
}

/**
 * Start sampling allocations on this thread. Calling it again with the same options does nothing
 * (like `tracemalloc.start()`); with different options it throws `ProfilerBusyError` — stop first.
 */
export function startAllocationTracking(options: AllocationTrackingOptions = {}): void {
  const opts = parse(options);
  if (tracker) {
    if (sameOptions(tracker.options, opts)) return;
    throw new ProfilerBusyError(
      'hangwatch: allocation tracking is already running with other options; call stopAllocationTracking() first',
    );
  }
  const sampler = createHeapSampler();
  sampler.start({ samplingIntervalBytes: opts.samplingIntervalBytes, includeCollected: opts.includeCollected });
  const t: Tracker = {
    sampler,
    options: opts,
    resolver: new ProfileFrameResolver({ sourceMaps: opts.sourceMaps }),
    peak: 0,
    timer: undefined,
  };
  if (opts.peakPollIntervalMs > 0) {
    t.timer = setInterval(() => {
      try {
        observe(t);
      } catch {
        // a failed poll only loses a peak reading
      }
    }, opts.peakPollIntervalMs);
    t.timer.unref();
  }
  tracker = t;
}

/** Stop sampling and forget every trace (`tracemalloc.stop()`). Does nothing when not tracking. */
export function stopAllocationTracking(): void {
  const t = tracker;
  tracker = undefined;
  if (!t) return;
  if (t.timer) clearInterval(t.timer);
  t.sampler.stop();
}

export function isTrackingAllocations(): boolean {
  return tracker !== undefined;
}

/** The live sampled allocations, as traces. Throws `AllocationTrackingNotStartedError` when not tracking. */
export function takeAllocationSnapshot(): AllocationSnapshot {
  const t = tracker;
  if (!t) throw new AllocationTrackingNotStartedError();
  const raw = t.sampler.profile();
  const snapshot = AllocationSnapshot.fromSamplingProfile(
    raw,
    {
      samplingIntervalBytes: t.options.samplingIntervalBytes,
      stackDepth: t.options.stackDepth,
      timestamp: Date.now(),
      includeCollected: t.options.includeCollected,
    },
    t.resolver,
  );
  if (snapshot.totalSize > t.peak) t.peak = snapshot.totalSize;
  return snapshot;
}

export interface TracedMemory {
  /** Estimated bytes of live sampled allocations now. */
  current: number;
  /** Highest `current` seen since tracking started (or `resetTracedMemoryPeak()`), read at each poll, snapshot and call. */
  peak: number;
}

/** `tracemalloc.get_traced_memory()`: `{ current: 0, peak: 0 }` when not tracking. */
export function getTracedMemory(): TracedMemory {
  const t = tracker;
  if (!t) return { current: 0, peak: 0 };
  const current = observe(t);
  return { current, peak: t.peak };
}

/** `tracemalloc.reset_peak()`: the peak restarts from the current traced size. */
export function resetTracedMemoryPeak(): void {
  const t = tracker;
  if (!t) return;
  t.peak = 0;
  observe(t);
}

export function allocationTrackingOptions(): Readonly<Required<AllocationTrackingOptions>> | undefined {
  if (tracker === undefined) return undefined;
  return tracker.options;
}
