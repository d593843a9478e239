/**
 * Entry point `hangwatch/report`: the report models hangwatch produces (hang reports, block events,
 * synchronous-I/O reports, the doctor's diagnosis) with every type they are made of, and their
 * renderings as text and HTML. The root (`hangwatch`) exports only the top-level report types its
 * calls return; import the parts and the renderers from here.
 */
export type {
  HangReport,
  HangKind,
  HangAction,
  PendingResource,
  HangSteps,
  StepSummary,
  StepKind,
  PoolWait,
  PoolHolder,
  PoolCounts,
} from './hang-report.js';
export type { BlockEvent, BlockSample, HotFrame } from './block-event.js';
export type { SyncIoReport, SyncIoSite } from './sync-io-report.js';
export type {
  Diagnosis,
  DiagnosisSummary,
  DiagnosisThresholds,
  Evidence,
  Finding,
  FindingKind,
  BlockingStack,
  GrowingConstructor,
  TimeRange,
} from './diagnosis.js';
export type { ReportOutput, ReportFormat } from './sink.js';
export { REPORT_SCHEMA_VERSION } from './schema.js';
export { renderHangReportText, renderTraceback } from './render-hang-text.js';
export { renderBlockEventText } from './render-block-text.js';
export { renderSyncIoText } from './render-sync-io-text.js';
export { renderDoctorText, renderFindingText, type DoctorReport } from './doctor-report.js';
export { renderDoctorHtml } from './render-html-doctor.js';
