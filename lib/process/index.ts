/**
 * Entry point `hangwatch/process`: sample a process's CPU, memory and handles (this one or another
 * by pid), record samples at an interval, and diagnose them as `hangwatch doctor` does — with the
 * diagnosis types and the errors these calls throw. Render a diagnosis with `renderDoctorText` /
 * `renderDoctorHtml` from `hangwatch/report`.
 */
export { sampleProcess, type ResourceSample } from './sample-process.js';
export {
  startIntervalSampler,
  type IntervalSample,
  type IntervalSampler,
  type IntervalSamplerOptions,
  type LoopDelaySummary,
  type GcSummary,
} from './interval-sampler.js';
export { diagnose, DEFAULT_THRESHOLDS, type DiagnoseOptions } from './diagnose.js';
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
} from '../report/diagnosis.js';
export { ProcessNotFoundError, ProcessSamplingUnsupportedError, ChildStartError } from './errors.js';
