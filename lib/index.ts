/**
 * hangwatch — the root entry point: the functions users call, the types of their options and
 * results, and every error class the API throws. Each capability lives in its own folder under
 * lib/; this file only re-exports. Renderers, log helpers, report parts and advanced types are in
 * the subpath entry points (`hangwatch/report`, `hangwatch/log`, `hangwatch/heap`, `hangwatch/cpu`,
 * `hangwatch/alloc`, `hangwatch/process`, and the integrations `hangwatch/express`,
 * `hangwatch/fastify`, `hangwatch/prometheus`, `hangwatch/opentelemetry`), so that this one stays
 * readable on one page and loads without any optional peer dependency.
 *
 * test/public-api.test.ts pins this list: adding a root export is a deliberate act.
 */

// Errors: every class the API throws, whatever entry point threw it (the CLI's attach errors aside).
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export { HangError } from './hang/index.js';
export { UnknownPoolError, PoolAlreadyWatchedError } from './pool/errors.js';
export { SyncIoTracingError } from './sync-io/errors.js';
export {
  HeapSnapshotFormatError,
  SnapshotTruncatedError,
  SnapshotCorruptError,
  NotAHeapSnapshotError,
  HeapSnapshotReadError,
  InsufficientDiskSpaceError,
  HeapSnapshotCaptureError,
  HeapBackendUnavailableError,
} from './heap/errors.js';
export {
  ProfilerBusyError,
  ProfilerBackendUnavailableError,
  ProfilerNotRunningError,
  InvalidCpuProfileError,
  UnknownFunctionError,
} from './cpu/errors.js';
export { InspectorCommandError } from './capture/errors.js';
export { AllocationTrackingNotStartedError, InvalidAllocationSnapshotError } from './alloc/errors.js';
export { ProcessNotFoundError, ProcessSamplingUnsupportedError, ChildStartError } from './process/errors.js';
export { MetricsAlreadyRegisteredError } from './export/errors.js';

// Hang detection (lib/hang)
export {
  withHangDetection,
  createHangDetector,
  wrapWithHangDetection,
  watchEventLoop,
  step,
  DEFAULT_TIMEOUT_MS,
} from './hang/index.js';
export type {
  HangOptions,
  HangFunction,
  HangContext,
  HangDetector,
  HangHandle,
  LoopWatchdog,
  LoopWatchdogOptions,
} from './hang/index.js';
export type { HangReport } from './report/hang-report.js';
export type { ReportOutput, ReportFormat } from './report/sink.js';
export type { StackFrame } from './capture/stack-frame.js';

// Who holds a connection pool's resources (lib/pool)
export { watchPool, type WatchPoolOptions, type PoolWatch } from './pool/watch-pool.js';
export type { PoolAdapter, PoolCountsInput } from './pool/pool-adapter.js';

// Synchronous I/O on the main thread by call site (lib/sync-io)
export { traceSyncIo, type SyncIoTracer, type TraceSyncIoOptions } from './sync-io/trace-sync-io.js';
export type { SyncIoReport } from './report/sync-io-report.js';

// Event-loop block monitor (lib/loop)
export { monitorEventLoop, type LoopMonitor, type LoopMonitorOptions, type LoopStats } from './loop/index.js';
export type { BlockEvent } from './report/block-event.js';

// Heap snapshots (lib/heap): capture, load, diff, leak finding
export {
  writeHeapSnapshot,
  type WriteHeapSnapshotOptions,
  type CaptureProgress,
  type HeapSnapshotBackend,
} from './heap/write-heap-snapshot.js';
export {
  loadHeapSnapshot,
  parseHeapSnapshot,
  type LoadHeapSnapshotOptions,
  type LoadProgress,
} from './heap/load-heap-snapshot.js';
export { HeapSnapshot } from './heap/heap-snapshot.js';
export { diffHeapSnapshots, type HeapDiff, type HeapDiffOptions } from './heap/heap-diff.js';
export {
  findLeaks,
  type FindLeaksOptions,
  type FindLeaksProgress,
  type LeakReport,
  type SnapshotInput,
} from './heap/find-leaks.js';

// CPU profiling (lib/cpu)
export {
  startCpuProfile,
  cpuProfile,
  CpuProfileSession,
  DEFAULT_SAMPLING_INTERVAL_US,
  type CpuProfileOptions,
} from './cpu/session.js';
export { CpuProfile } from './cpu/cpu-profile.js';
export type { CpuProfilerBackendName } from './capture/cpu-profiler.js';

// Allocation tracking (lib/alloc)
export {
  startAllocationTracking,
  stopAllocationTracking,
  takeAllocationSnapshot,
  getTracedMemory,
  resetTracedMemoryPeak,
  isTrackingAllocations,
  DEFAULT_SAMPLING_INTERVAL_BYTES,
  type AllocationTrackingOptions,
  type TracedMemory,
} from './alloc/tracking.js';
export { AllocationSnapshot } from './alloc/snapshot.js';
export { AllocationFilter, type AllocationFilterSpec } from './alloc/filter.js';

// GC monitoring (lib/gc)
export { monitorGc, HeapGrowthDetector } from './gc/monitor.js';
export type {
  GcMonitor,
  GcMonitorOptions,
  GcEvent,
  GcKind,
  GcStats,
  GcKindStats,
  HeapPoint,
  LeakSuspicion,
} from './gc/monitor.js';

// Production: continuous pprof files, the diagnostics endpoint (framework middleware and the
// Prometheus / OpenTelemetry exporters are their own entry points: they need optional peers)
export {
  startPprofFileExport,
  type PprofFileExport,
  type PprofFileExportOptions,
  type PprofKind,
} from './export/pprof-file-export.js';
export {
  createDiagnosticsHandler,
  type DiagnosticsHandler,
  type DiagnosticsHandlerOptions,
  type DiagnosticsEndpoint,
} from './diagnostics/diagnostics-handler.js';
