/**
 * hangwatch — public API. Each capability lives in its own folder under lib/; this file only
 * re-exports what users may import.
 */
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export type { StackFrame } from './capture/stack-frame.js';

// Hang detection (lib/hang)
export { withHangDetection, createHangDetector, wrapWithHangDetection, HangError, DEFAULT_TIMEOUT_MS } from './hang/index.js';
export type { HangOptions, HangFunction } from './hang/index.js';
export type { HangReport, HangKind, HangAction, PendingResource } from './report/hang-report.js';
export { renderHangReportText, renderTraceback } from './report/render-hang-text.js';
export { REPORT_SCHEMA_VERSION } from './report/schema.js';
export type { ReportOutput, ReportFormat } from './report/sink.js';

// ---- heap snapshots (issue 4): capture, streaming parse, dominators, diff, leak finding ----
export { writeHeapSnapshot } from './heap/write-heap-snapshot.js';
export type { WriteHeapSnapshotOptions, CaptureProgress, HeapSnapshotBackend } from './heap/write-heap-snapshot.js';
export { loadHeapSnapshot, loadHeapSnapshotIds, parseHeapSnapshot } from './heap/load-heap-snapshot.js';
export type { LoadHeapSnapshotOptions, LoadProgress } from './heap/load-heap-snapshot.js';
export { HeapSnapshot } from './heap/heap-snapshot.js';
export type { HeapNode, HeapEdge, RetainerStep, ClassSummary, NodeRef } from './heap/heap-snapshot.js';
export type { SnapshotMeta, RawHeapSnapshot } from './heap/snapshot-parser.js';
export { diffHeapSnapshots } from './heap/heap-diff.js';
export type { HeapDiff, ClassDiff } from './heap/heap-diff.js';
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
