/**
 * The allocation sampler backend interface (V8's sampling heap profiler), apart from the choice
 * of backend in heap-sampler.ts so that backends can import it without a cycle.
 */
import type { RawSamplingHeapProfile } from './profile-format.js';

export interface HeapSamplerOptions {
  /** Mean bytes between samples. */
  samplingIntervalBytes: number;
  /** Keep samples of objects already garbage-collected (total allocations instead of live ones). */
  includeCollected: boolean;
}

export interface HeapSampler {
  readonly name: 'inspector';
  readonly active: boolean;
  /** Throws `ProfilerBusyError` if sampling cannot start. */
  start(options: HeapSamplerOptions): void;
  /** The samples recorded so far (live objects only, unless `includeCollected`). */
  profile(): RawSamplingHeapProfile;
  /** Stop and forget every sample; never throws. */
  stop(): void;
}
