/** The memory-leak rule: the heap left after collections keeps growing (heap-trend.ts judges the series). */
import type { DiagnosisThresholds, Finding, GrowingConstructor } from '../../report/diagnosis.js';
import { formatBytes, formatPercent, formatRange } from '../../report/format-units.js';
import { judgeHeapTrend, lowerEnvelope, postGcHeapSeries } from '../heap-trend.js';
import type { IntervalSample } from '../interval-sampler.js';

export function findMemoryLeak(
  samples: IntervalSample[],
  th: DiagnosisThresholds,
  growing: GrowingConstructor[] | undefined,
): Finding | undefined {
  if (samples.length < th.minSamplesForTrend) return undefined;
  const series = postGcHeapSeries(samples);
  const trend = judgeHeapTrend(series.source, series.points, {
    minGrowthBytes: th.leakMinGrowthBytes,
    minRelativeGrowth: th.leakMinRelativeGrowth,
  });
  if (!trend.leaking) return undefined;
  const first = trend.points[0] as { t: number; value: number };
  const last = trend.points[trend.points.length - 1] as { t: number; value: number };
  const growth = trend.growthBytes;
  const rate = trend.bytesPerSecond;
  const rss = lowerEnvelope(samples, (s) => s.rssBytes);
  const what =
    trend.source === 'after-full-gc'
      ? `heap after collections (${trend.points.length} full collections)`
      : trend.source === 'old-generation'
        ? 'heap after collections (old generation, low points)'
        : 'heap after collections (heap low points)';
  const finding: Finding = {
    kind: 'memory-leak',
    severity: growth >= 100 * 1024 * 1024 || trend.relativeGrowth >= 1 ? 'critical' : 'warning',
    title: 'Memory leak',
    summary:
      `The heap left after collections grew steadily, by ${formatBytes(growth)} (${formatPercent(trend.relativeGrowth)} of where it started, ${formatBytes(rate * 60)}/min), ` +
      `and never came back down: objects are being kept alive.`,
    evidence: [
      { label: what, value: `${formatBytes(first.value)} → ${formatBytes(last.value)}` },
      { label: 'growth rate (robust slope)', value: `${formatBytes(rate)}/s, ${formatBytes(rate * 60)}/min` },
      { label: 'growth relative to the start', value: formatPercent(trend.relativeGrowth) },
      { label: 'steps that rose', value: formatPercent(trend.risingShare) },
      {
        label: 'RSS low points',
        value: `${formatBytes((rss[0] as { value: number }).value)} → ${formatBytes((rss[rss.length - 1] as { value: number }).value)}`,
      },
      { label: 'collections in the run', value: String(samples.reduce((a, s) => a + s.gc.count, 0)) },
      { label: 'when', value: formatRange(first.t, last.t) },
    ],
    ranges: [{ fromMs: first.t, toMs: last.t }],
    nextStep: growing?.length
      ? `Start with the constructors that grew most (below): find what retains them (\`hangwatch heap leaks\` retainer paths) — typically a cache or Map without eviction, listeners never removed, or closures kept by timers.`
      : 'Run the doctor again with --heap-snapshots (or take heap snapshots before and after some load and compare them with `hangwatch heap`) to find the growing constructors and what retains them — typically a cache or Map without eviction, listeners never removed, or closures kept by timers.',
  };
  if (growing?.length) finding.growingConstructors = growing;
  return finding;
}
