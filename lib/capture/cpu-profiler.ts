/**
 * CPU profiler primitive: the choice of backend (the interface is in cpu-profiler-backend.ts).
 * `inspector` (the native-free `Profiler` domain, always available) is the default;
 * `v8-profiler-next` is used only when installed and asked for. Both produce the same
 * `.cpuprofile` data.
 */
import { InspectorCpuProfiler } from '../../native-free-fallbacks/inspector-cpu-profiler.js';
import { NativeCpuProfiler } from './native-cpu-profiler.js';
import type { CpuProfilerBackend, CpuProfilerBackendName } from './cpu-profiler-backend.js';

export { CPU_PROFILER_BACKENDS, type CpuProfilerBackend, type CpuProfilerBackendName } from './cpu-profiler-backend.js';

export async function createCpuProfilerBackend(name: CpuProfilerBackendName): Promise<CpuProfilerBackend> {
  if (name === 'v8-profiler-next') return NativeCpuProfiler.create();
  return new InspectorCpuProfiler();
}
