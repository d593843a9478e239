/**
 * The CPU profiler backend interface (no implementation here, so that backends can import it
 * without importing the choice of backend in cpu-profiler.ts).
 */
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
