/**
 * hangwatch — public API. Each capability lives in its own folder under lib/; this file only
 * re-exports what users may import.
 */
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export type { StackFrame } from './capture/stack-frame.js';

// Hang detection (lib/hang)
export { withHangDetection, createHangDetector, wrapWithHangDetection, HangError, DEFAULT_TIMEOUT_MS } from './hang/index.js';
export type { HangOptions, HangFunction, HangContext, HangDetector, HangHandle } from './hang/index.js';
export { watchEventLoop, step } from './hang/index.js';
export type { LoopWatchdog, LoopWatchdogOptions } from './hang/index.js';
export type { HangReport, HangKind, HangAction, PendingResource, HangSteps, StepSummary, StepKind, PoolWait, PoolHolder, PoolCounts } from './report/hang-report.js';

// Who holds a connection pool's resources (lib/pool)
export { watchPool, type WatchPoolOptions, type PoolWatch } from './pool/watch-pool.js';
export type { PoolAdapter, PoolCountsInput } from './pool/pool-adapter.js';
export { UnknownPoolError, PoolAlreadyWatchedError } from './pool/errors.js';

// Synchronous I/O on the main thread by call site (lib/sync-io)
export { traceSyncIo, SyncIoTracingError, type SyncIoTracer, type TraceSyncIoOptions } from './sync-io/trace-sync-io.js';
export type { SyncIoReport, SyncIoSite } from './report/sync-io-report.js';
export { renderSyncIoText } from './report/render-sync-io-text.js';
export { renderHangReportText, renderTraceback } from './report/render-hang-text.js';
export { REPORT_SCHEMA_VERSION } from './report/schema.js';
export type { ReportOutput, ReportFormat } from './report/sink.js';

// Heap snapshots (lib/heap): capture, streaming parse, dominators, diff, leak finding
export { writeHeapSnapshot } from './heap/write-heap-snapshot.js';
export type { WriteHeapSnapshotOptions, CaptureProgress, HeapSnapshotBackend } from './heap/write-heap-snapshot.js';
export { loadHeapSnapshot, loadHeapSnapshotIds, parseHeapSnapshot } from './heap/load-heap-snapshot.js';
export type { LoadHeapSnapshotOptions, LoadProgress } from './heap/load-heap-snapshot.js';
export { HeapSnapshot } from './heap/heap-snapshot.js';
export type { HeapNode, HeapEdge, RetainerStep, ClassSummary, NodeRef } from './heap/heap-snapshot.js';
export type { SnapshotMeta, RawHeapSnapshot } from './heap/snapshot-parser.js';
export { diffHeapSnapshots } from './heap/heap-diff.js';
export type { HeapDiff, ClassDiff, HeapDiffOptions } from './heap/heap-diff.js';
export { findLeaks, formatLeakPath } from './heap/find-leaks.js';
export type { FindLeaksOptions, FindLeaksProgress, LeakReport, LeakCluster, LeakPathStep, SnapshotInput } from './heap/find-leaks.js';
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

// CPU and allocation profiling, GC monitoring (lib/cpu, lib/alloc, lib/gc)
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

// Event-loop block monitor (lib/loop)
export { monitorEventLoop } from './loop/index.js';
export type { LoopMonitor, LoopMonitorOptions, LoopStats } from './loop/index.js';
export type { BlockEvent, BlockSample, HotFrame } from './report/block-event.js';
export { renderBlockEventText } from './report/render-block-text.js';

// Process sampling, the doctor's diagnosis and its reports (lib/process)
export { sampleProcess, type ResourceSample } from './process/sample-process.js';
export { startIntervalSampler, type IntervalSample, type IntervalSampler, type IntervalSamplerOptions, type LoopDelaySummary, type GcSummary } from './process/interval-sampler.js';
export { diagnose, DEFAULT_THRESHOLDS, type DiagnoseOptions } from './process/diagnose.js';
export { ProcessNotFoundError, ProcessSamplingUnsupportedError, ChildStartError } from './process/errors.js';
export type { Diagnosis, DiagnosisSummary, DiagnosisThresholds, Evidence, Finding, FindingKind, BlockingStack, GrowingConstructor, TimeRange } from './report/diagnosis.js';
export { renderDoctorText, renderFindingText, type DoctorReport } from './report/doctor-report.js';
export { renderDoctorHtml } from './report/render-html-doctor.js';

// Production integrations: log lines, pprof files, diagnostics endpoint
// Framework middleware and the Prometheus / OpenTelemetry exporters are separate entry points
// (hangwatch/express, hangwatch/fastify, hangwatch/prometheus, hangwatch/opentelemetry) so that
// this one loads without their optional peer dependencies.
export { hangLogFields, hangLogMessage, blockLogFields, formatHangLogLine, formatBlockLogLine, jsonLogOutput } from './export/log-line.js';
export { startPprofFileExport } from './export/pprof-file-export.js';
export type { PprofFileExport, PprofFileExportOptions, PprofKind } from './export/pprof-file-export.js';
export type { BlockEventLike } from './export/events.js';
export { MetricsAlreadyRegisteredError } from './export/errors.js';
export { createDiagnosticsHandler, isLoopbackAddress } from './diagnostics/diagnostics-handler.js';
export type { DiagnosticsHandler, DiagnosticsHandlerOptions, DiagnosticsEndpoint } from './diagnostics/diagnostics-handler.js';
export type { RequestHangOptions, RequestInfo } from './middleware/request-hang-options.js';
