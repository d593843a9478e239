/**
 * CPU profiler primitive: the interface every backend implements, and the choice of backend.
 * `inspector` (the native-free `Profiler` domain, always available) is the default;
 * `v8-profiler-next` is used only when installed and asked for. Both produce the same
 * `.cpuprofile` data.
 */
import { InspectorCpuProfiler } from '../../native-free-fallbacks/inspector-cpu-profiler.js';
import { NativeCpuProfiler } from './native-cpu-profiler.js';
import type { RawCpuProfile } from './profile-format.js';

export type CpuProfilerBackendName = 'inspector' | 'v8-profiler-next';
export const CPU_PROFILER_BACKENDS: readonly CpuProfilerBackendName[] = ['inspector', 'v8-profiler-next'];

/** One recording on the current thread. `start` and `stop` are called once each. */
export interface CpuProfilerBackend {
  readonly name: CpuProfilerBackendName;
  /** Begin sampling every `intervalUs` microseconds. Throws `ProfilerBusyError` if the profiler cannot start. */
  start(intervalUs: number): void;
  /** End the recording and return it. */
  stop(): RawCpuProfile;
  /** Abandon the recording, releasing everything; never throws. */
  dispose(): void;
}

export async function createCpuProfilerBackend(name: CpuProfilerBackendName): Promise<CpuProfilerBackend> {
  if (name === 'v8-profiler-next') return NativeCpuProfiler.create();
  return new InspectorCpuProfiler();
}
