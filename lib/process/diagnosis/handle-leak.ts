/** The handle-leak rule: the low points of the active handles keep rising. */
import type { DiagnosisThresholds, Finding } from '../../report/diagnosis.js';
import { formatRange } from '../../report/format-units.js';
import { lowerEnvelope } from '../heap-trend.js';
import type { IntervalSample } from '../interval-sampler.js';
import { slopePerSecond, sustainedGrowth } from './series.js';

export function findHandleLeak(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  if (samples.length < th.minSamplesForTrend) return undefined;
  const envelope = lowerEnvelope(samples, (s) => s.activeHandles);
  const growth = sustainedGrowth(envelope, () => 1);
  if (growth < th.handleLeakMinGrowth) return undefined;
  const firstSample = samples[0] as IntervalSample;
  const lastSample = samples[samples.length - 1] as IntervalSample;
  const grew = Object.entries(lastSample.handlesByType)
    .map(([type, n]) => [type, n - (firstSample.handlesByType[type] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4);
  const first = envelope[0] as { t: number; value: number };
  const last = envelope[envelope.length - 1] as { t: number; value: number };
  return {
    kind: 'handle-leak',
    severity: 'warning',
    title: 'Handle leak',
    summary: `Active handles kept rising, from ${first.value} to ${last.value}, and did not fall back: resources are opened and never closed.`,
    evidence: [
      { label: 'active handles (low points)', value: `${first.value} → ${last.value}` },
      { label: 'growth rate', value: `${slopePerSecond(envelope).toFixed(1)}/s` },
      { label: 'types that grew', value: grew.map(([t, d]) => `${t} +${d}`).join(', ') || 'n/a' },
      { label: 'when', value: formatRange(first.t, last.t) },
    ],
    ranges: [{ fromMs: first.t, toMs: last.t }],
    nextStep: `Find where ${grew[0]?.[0] ?? 'these handles'} are created and make sure each is closed (sockets ended/destroyed, timers cleared, file handles closed, listeners removed); \`why-is-node-running\`-style handle listings at exit help.`,
  };
}
