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
