/**
 * Allocation sampling primitive (V8's sampling heap profiler). The inspector backend is the only
 * one: `v8-profiler-next` wraps the same V8 API and would add nothing but a native build.
 */
import { InspectorHeapSampler } from '../../native-free-fallbacks/inspector-heap-sampler.js';
import type { HeapSampler } from './heap-sampler-backend.js';

export type { HeapSampler, HeapSamplerOptions } from './heap-sampler-backend.js';

export function createHeapSampler(): HeapSampler {
  return new InspectorHeapSampler();
}
