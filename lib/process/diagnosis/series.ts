/** Arithmetic on the interval series of a run, shared by the doctor's rules. */
import type { TimeRange } from '../../report/diagnosis.js';
import { formatRange } from '../../report/format-units.js';
import type { IntervalSample } from '../interval-sampler.js';

export const mean = (values: number[]): number =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
export const max = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), 0);

/** Merge the intervals that satisfy `pred` into time ranges. */
export function rangesWhere(samples: IntervalSample[], pred: (s: IntervalSample) => boolean): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (const s of samples) {
    if (!pred(s)) continue;
    const fromMs = Math.max(0, s.t - s.intervalMs);
    const last = ranges[ranges.length - 1];
    if (last && fromMs <= last.toMs + 1) last.toMs = s.t;
    else ranges.push({ fromMs, toMs: s.t });
  }
  return ranges;
}

export function describeRanges(ranges: TimeRange[]): string {
  const shown = ranges.slice(0, 4).map((r) => formatRange(r.fromMs, r.toMs));
  return ranges.length > 4 ? `${shown.join(', ')} and ${ranges.length - 4} more` : shown.join(', ');
}

/** Least-squares slope, per second, of points whose `t` is in ms. */
export function slopePerSecond(points: { t: number; value: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = mean(points.map((p) => p.t));
  const mv = mean(points.map((p) => p.value));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.value - mv);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? (num / den) * 1000 : 0;
}

/**
 * Growth of an envelope that rises (nearly) monotonically and is still rising in its second half;
 * 0 otherwise. The second condition tells a leak from a ramp-up: a server that opens its
 * connections or fills its caches at the start steps up once and then stays flat.
 */
export function sustainedGrowth(envelope: { value: number }[], tolerance: (v: number) => number): number {
  for (let i = 1; i < envelope.length; i++) {
    const prev = envelope[i - 1] as { value: number };
    const cur = envelope[i] as { value: number };
    if (cur.value < prev.value - tolerance(prev.value)) return 0;
  }
  const first = envelope[0]?.value ?? 0;
  const middle = envelope[Math.floor(envelope.length / 2)]?.value ?? 0;
  const last = envelope[envelope.length - 1]?.value ?? 0;
  const growth = last - first;
  return growth > 0 && last - middle >= growth * LATE_GROWTH_SHARE ? growth : 0;
}

/** Share of the growth that must happen in the second half of the run for a leak. */
const LATE_GROWTH_SHARE = 0.25;
