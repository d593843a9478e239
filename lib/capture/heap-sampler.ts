/**
 * Allocation sampling primitive (V8's sampling heap profiler). The inspector backend is the only
 * one: `v8-profiler-next` wraps the same V8 API and would add nothing but a native build.
 */
import { InspectorHeapSampler } from '../../native-free-fallbacks/inspector-heap-sampler.js';
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

export function createHeapSampler(): HeapSampler {
  return new InspectorHeapSampler();
}
