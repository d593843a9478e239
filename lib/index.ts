/**
 * hangwatch — public API. Each capability lives in its own folder under lib/; this file only
 * re-exports what users may import.
 */
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export type { StackFrame } from './capture/stack-frame.js';

// ---- CPU and allocation profiling, GC monitoring (issue 5) ----
export { startCpuProfile, cpuProfile, CpuProfileSession, DEFAULT_SAMPLING_INTERVAL_US } from './cpu/session.js';
export type { CpuProfileOptions } from './cpu/session.js';
export { CpuProfile } from './cpu/cpu-profile.js';
export type { CpuProfileMeta, CpuProfileViewOptions, CallRelation, FunctionRef, PrintOptions, CpuOutputFormat } from './cpu/cpu-profile.js';
export { CpuStats, STATS_SORT_KEYS } from './cpu/stats.js';
export type { FunctionStats, StatsSortKey, StatsSummary, FormatOptions } from './cpu/stats.js';
export type { FlameGraphOptions } from './report/flame-graph.js';
export { ProfilerBusyError, ProfilerBackendUnavailableError, ProfilerNotRunningError, InvalidCpuProfileError, UnknownFunctionError } from './cpu/errors.js';
export { InspectorCommandError } from '../native-free-fallbacks/inspector-session.js';
export type { CpuProfilerBackendName } from './capture/cpu-profiler.js';
export type { RawCpuProfile, RawSamplingHeapProfile } from './capture/profile-format.js';
export type { PathPattern, FrameFilterOptions } from './capture/frame-filter.js';
export {
  startAllocationTracking,
  stopAllocationTracking,
  takeAllocationSnapshot,
  getTracedMemory,
  resetTracedMemoryPeak,
  isTrackingAllocations,
  DEFAULT_SAMPLING_INTERVAL_BYTES,
} from './alloc/tracking.js';
export type { AllocationTrackingOptions, TracedMemory } from './alloc/tracking.js';
export { AllocationSnapshot, formatStatistic } from './alloc/snapshot.js';
export type { AllocationTrace, AllocationStatistic, AllocationStatisticDiff, StatisticKey, StatisticsOptions, AllocationSnapshotMeta } from './alloc/snapshot.js';
export { AllocationFilter } from './alloc/filter.js';
export type { AllocationFilterSpec } from './alloc/filter.js';
export { AllocationTrackingNotStartedError, InvalidAllocationSnapshotError } from './alloc/errors.js';
export { monitorGc, HeapGrowthDetector } from './gc/monitor.js';
export type { GcMonitor, GcMonitorOptions, GcEvent, GcKind, GcStats, GcKindStats, HeapPoint, LeakSuspicion } from './gc/monitor.js';
// ---- end of issue 5 ----
