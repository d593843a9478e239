/**
 * hangwatch — public API. Each capability lives in its own folder under lib/; this file only
 * re-exports what users may import.
 */
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export type { StackFrame } from './capture/stack-frame.js';

// --- process sampling, the doctor's diagnosis and its reports (issue 6) ---
export { sampleProcess, type ResourceSample } from './process/sample-process.js';
export { startIntervalSampler, type IntervalSample, type IntervalSampler, type IntervalSamplerOptions, type LoopDelaySummary, type GcSummary } from './process/interval-sampler.js';
export { diagnose, DEFAULT_THRESHOLDS, type DiagnoseOptions } from './process/diagnose.js';
export { ProcessNotFoundError, ProcessSamplingUnsupportedError, ChildStartError } from './process/errors.js';
export type { Diagnosis, DiagnosisSummary, DiagnosisThresholds, Evidence, Finding, FindingKind, BlockingStack, GrowingConstructor, TimeRange } from './report/diagnosis.js';
export { renderDoctorText, renderFindingText, type DoctorReport } from './report/doctor-report.js';
export { renderDoctorHtml } from './report/render-html-doctor.js';
