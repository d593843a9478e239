/** The thresholds of the doctor's rules (docs/cli.md, "How the doctor decides"): the defaults and the check of overrides. */
import type { DiagnosisThresholds } from '../../report/diagnosis.js';
import { numberOption, optionalObject, optionKeys } from '../../validate.js';

const DIAGNOSIS_THRESHOLDS_OPTION_KEYS = optionKeys<DiagnosisThresholds>({
  blockDelayMs: true,
  blockMinShare: true,
  blockMinIntervals: true,
  blockSevereMs: true,
  ioMaxCpuPercent: true,
  ioMaxUtilization: true,
  ioMinPendingOperations: true,
  gcMinShare: true,
  leakMinGrowthBytes: true,
  leakMinRelativeGrowth: true,
  handleLeakMinGrowth: true,
  minSamplesForTrend: true,
  syncIoMinCalls: true,
  syncIoMinMs: true,
});

export const DEFAULT_THRESHOLDS: Readonly<DiagnosisThresholds> = Object.freeze({
  blockDelayMs: 100,
  blockMinShare: 0.05,
  blockMinIntervals: 2,
  blockSevereMs: 1000,
  ioMaxCpuPercent: 30,
  ioMaxUtilization: 0.3,
  ioMinPendingOperations: 5,
  gcMinShare: 0.1,
  leakMinGrowthBytes: 512 * 1024,
  leakMinRelativeGrowth: 0.01,
  handleLeakMinGrowth: 20,
  minSamplesForTrend: 6,
  syncIoMinCalls: 3,
  syncIoMinMs: 10,
});

/** The defaults with the overrides given, each checked (shares from 0 to 1, the others at least 0). */
export function validateThresholds(value: unknown): DiagnosisThresholds {
  const given = optionalObject<DiagnosisThresholds>('thresholds', value, DIAGNOSIS_THRESHOLDS_OPTION_KEYS);
  const out = { ...DEFAULT_THRESHOLDS };
  for (const key of Object.keys(given) as (keyof DiagnosisThresholds)[]) {
    const share =
      key === 'blockMinShare' || key === 'ioMaxUtilization' || key === 'gcMinShare' || key === 'leakMinRelativeGrowth';
    out[key] = numberOption(
      `thresholds.${key}`,
      given[key],
      DEFAULT_THRESHOLDS[key],
      share ? { min: 0, max: 1 } : { min: 0 },
    );
  }
  return out;
}
