/** The GC-pressure rule: a large share of the run paused in garbage collection. */
import type { DiagnosisThresholds, Finding } from '../../report/diagnosis.js';
import { formatBytes, formatMs, formatPercent } from '../../report/format-units.js';
import type { IntervalSample } from '../interval-sampler.js';
import { describeRanges, max, rangesWhere } from './series.js';

export function findGcPressure(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  const wall = samples.reduce((a, s) => a + s.intervalMs, 0);
  const pause = samples.reduce((a, s) => a + s.gc.pauseMs, 0);
  const share = wall > 0 ? pause / wall : 0;
  if (share < th.gcMinShare) return undefined;
  const heavy = (s: IntervalSample): boolean => s.intervalMs > 0 && s.gc.pauseMs / s.intervalMs >= th.gcMinShare;
  const ranges = rangesWhere(samples, heavy);
  const count = samples.reduce((a, s) => a + s.gc.count, 0);
  const major = samples.reduce((a, s) => a + s.gc.majorCount, 0);
  return {
    kind: 'gc-pressure',
    severity: share >= 0.25 ? 'critical' : 'warning',
    title: 'Garbage-collection pressure',
    summary: `The process spent ${formatPercent(share)} of the run paused in garbage collection (${count} collections, ${major} major): allocation churn or a heap near its limit.`,
    evidence: [
      { label: 'time in GC pauses', value: `${formatMs(pause)} of ${formatMs(wall)} (${formatPercent(share)})` },
      { label: 'collections', value: `${count} (${major} major)` },
      { label: 'longest pause', value: formatMs(max(samples.map((s) => s.gc.maxPauseMs))) },
      {
        label: 'peak heap used / total',
        value: `${formatBytes(max(samples.map((s) => s.heapUsedBytes)))} / ${formatBytes(max(samples.map((s) => s.heapTotalBytes)))}`,
      },
      { label: 'when', value: describeRanges(ranges) },
    ],
    ranges,
    nextStep:
      'Reduce allocation: profile allocations (`hangwatch heap`), reuse buffers and objects on hot paths, avoid large temporary arrays and strings; if the heap is near its limit, look for a leak or raise --max-old-space-size.',
  };
}
