/**
 * The doctor's leak rule: does the memory a program keeps alive keep growing?
 *
 * What is judged is the heap *after collections*, never the heap in use (which rises and falls
 * with garbage whatever the program does):
 *  - the heap right after a full collection: the doctor's live-heap probe (`liveHeapBytes`, one
 *    full collection every few seconds, lib/process/live-heap-probe.ts) and the program's own
 *    major collections (`heapAfterGcBytes`), when the run has at least three of them; the
 *    collections of a heap snapshot are left out, so a snapshot never hides nor fakes a trend;
 *  - otherwise the old generation's low points (`oldGenerationBytes`, with what a heap snapshot's
 *    collection freed added back), which hold garbage promoted and not yet collected;
 *  - for samples without either, the heap's lower envelope (the minimum of each of 3–8 windows),
 *    which holds young garbage too.
 * Both fallbacks hold garbage, and a steady program that promotes some rises there too: they ask for
 * four times the growth.
 *
 * Readings of the first fifth of the run are left out (warm-up: modules loaded, code compiled,
 * pools and caches filled), and so is one early jump far above the usual step (load that started late;
 * `withoutWarmUpJump`).
 *
 * A leak is a trend that is (1) rising: its robust slope (Theil–Sen, the median of the slopes
 * between every two points, so one odd reading moves it little) times the span is at least the
 * absolute and the relative threshold (growth against the starting heap: a 1 MiB rise is noise in a
 * 1 GiB heap and a leak in a 20 MiB one); (2) monotonic: at most a quarter of the steps fall, and
 * none by more than the tolerance (1 % of the heap, at least 256 KiB); (3) still rising late: the
 * second half of the points sits above the first by at least a quarter of the growth, so a warm-up
 * step (caches filled once, connections opened) is not a leak.
 */
import type { IntervalSample } from './interval-sampler.js';

export interface TrendPoint {
  /** ms since the run started */
  t: number;
  value: number;
}

export interface HeapTrend {
  /** Which series was judged. */
  source: 'after-full-gc' | 'old-generation' | 'lower-envelope';
  points: TrendPoint[];
  /** Robust slope, bytes per second. */
  bytesPerSecond: number;
  /** Slope times the span of the points, bytes. */
  growthBytes: number;
  /** `growthBytes` over the first point's value. */
  relativeGrowth: number;
  /** Share of the steps between consecutive points that did not fall beyond the tolerance. */
  risingShare: number;
  /** All three conditions held. */
  leaking: boolean;
}

export interface HeapTrendThresholds {
  /** Growth over the run, bytes. */
  minGrowthBytes: number;
  /** Growth over the run relative to the starting heap (0.05 = 5 %). */
  minRelativeGrowth: number;
}

/** The fallback series (garbage included: promoted to the old generation, or young too) need this many times the growth. */
const ENVELOPE_FACTOR = 4;
/** At most this share of the steps may fall. */
const MAX_FALLING_SHARE = 0.25;
/** The second half must sit above the first by this share of the growth. */
const LATE_GROWTH_SHARE = 0.25;
/** Post-GC readings needed to use them rather than the envelope. */
const MIN_GC_POINTS = 3;
/** The first part of the run is warm-up (code compiled, modules loaded, caches and pools filled): not judged. */
const WARM_UP_SHARE = 0.2;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Theil–Sen slope, per second, of points whose `t` is in ms (0 for fewer than two points). */
export function robustSlopePerSecond(points: TrendPoint[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i] as TrendPoint;
      const b = points[j] as TrendPoint;
      if (b.t !== a.t) slopes.push(((b.value - a.value) / (b.t - a.t)) * 1000);
    }
  }
  return slopes.length ? median(slopes) : 0;
}

/**
 * Lower envelope of a series: the minimum of each of `windows` consecutive windows, with the time
 * of that minimum. For the heap this is "memory after collections", garbage not yet collected included.
 */
export function lowerEnvelope(samples: IntervalSample[], value: (s: IntervalSample) => number): TrendPoint[] {
  const windows = Math.max(3, Math.min(8, Math.floor(samples.length / 3)));
  const size = samples.length / windows;
  const out: TrendPoint[] = [];
  for (let w = 0; w < windows; w++) {
    const slice = samples.slice(Math.round(w * size), Math.round((w + 1) * size));
    if (!slice.length) continue;
    let best = slice[0] as IntervalSample;
    for (const s of slice) if (value(s) < value(best)) best = s;
    out.push({ t: best.t, value: value(best) });
  }
  return out;
}

/**
 * The old generation over the run, as if hangwatch had collected nothing: a heap snapshot collects
 * all garbage first, and the old generation drops at once by garbage the program's own collections
 * would have freed only later. That drop is added back to every later reading.
 */
export function oldGenerationSeries(samples: IntervalSample[]): TrendPoint[] {
  const out: TrendPoint[] = [];
  let offset = 0;
  let previous: number | undefined;
  for (const s of samples) {
    const value = s.oldGenerationBytes as number;
    const ownGc = (s.selfPauseMs ?? 0) > 0 || (s.gc.hangwatchCount ?? 0) > 0;
    if (ownGc && previous !== undefined && value < previous) offset += previous - value;
    previous = value;
    out.push({ t: s.t, value: value + offset });
  }
  return out;
}

/** Lower envelope of points (see `lowerEnvelope`). */
function envelopeOf(points: TrendPoint[]): TrendPoint[] {
  return lowerEnvelope(
    points.map((p) => ({ t: p.t, heapUsedBytes: p.value }) as IntervalSample),
    (s) => s.heapUsedBytes,
  );
}

/** The series the rule judges (see the file comment). */
export function postGcHeapSeries(samples: IntervalSample[]): { source: HeapTrend['source']; points: TrendPoint[] } {
  // The probe's full collection is the exact reading; a program's own major one is nearly as good,
  // but not the same measure (it runs at another moment of the program's work, often above the
  // probe's reading): the two are not mixed, or their alternation looks like a falling heap.
  const probed: TrendPoint[] = [];
  const ownGc: TrendPoint[] = [];
  for (const s of samples) {
    if (s.liveHeapBytes !== undefined) probed.push({ t: s.t, value: s.liveHeapBytes });
    else if (s.heapAfterGcBytes !== undefined) ownGc.push({ t: s.t, value: s.heapAfterGcBytes });
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const warm = (points: TrendPoint[]) =>
    first && last ? points.filter((p) => p.t >= first.t + WARM_UP_SHARE * (last.t - first.t)) : points;
  for (const points of [warm(probed), warm(ownGc)])
    if (points.length >= MIN_GC_POINTS) return { source: 'after-full-gc', points };
  if (samples.length && samples.every((s) => s.oldGenerationBytes !== undefined))
    return { source: 'old-generation', points: envelopeOf(oldGenerationSeries(samples)) };
  // Samples of an older preload: a heap snapshot collects everything first, so the interval with
  // one (and the next, whose reading follows it) would dip below the program's usual low points.
  const ordinary = samples.filter((s, i) => !(s.selfPauseMs ?? 0) && !(samples[i - 1]?.selfPauseMs ?? 0));
  return {
    source: 'lower-envelope',
    points: lowerEnvelope(ordinary.length >= 3 ? ordinary : samples, (s) => s.heapUsedBytes),
  };
}

/** A step this many times the median step, in the first half of the readings, is a warm-up jump. */
const JUMP_FACTOR = 4;

/**
 * The readings with one early jump taken out: when load starts late (a slow machine, a load
 * generator that takes seconds to connect), its sockets, buffers and freshly compiled code raise the
 * live heap in one step after the warm-up fifth. A step in the first half of the readings that is at
 * least four times the median step is replaced by the median step; a leak, which rises at every
 * step, has no such step.
 */
export function withoutWarmUpJump(points: TrendPoint[]): TrendPoint[] {
  if (points.length < 4) return points;
  const steps = points.slice(1).map((p, i) => p.value - (points[i] as TrendPoint).value);
  const typical = median(steps.map(Math.abs));
  let jump = 0;
  for (let i = 1; i < steps.length; i++) if ((steps[i] as number) > (steps[jump] as number)) jump = i;
  if (jump + 1 > points.length / 2 || (steps[jump] as number) <= JUMP_FACTOR * typical) return points;
  const excess = (steps[jump] as number) - median(steps);
  return points.map((p, i) => (i > jump ? { t: p.t, value: p.value - excess } : p));
}

/** Judge a post-GC heap series against the thresholds (see the file comment). */
export function judgeHeapTrend(
  source: HeapTrend['source'],
  measured: TrendPoint[],
  thresholds: HeapTrendThresholds,
): HeapTrend {
  const points = source === 'after-full-gc' ? withoutWarmUpJump(measured) : measured;
  const first = points[0];
  const last = points[points.length - 1];
  const bytesPerSecond = robustSlopePerSecond(points);
  const span = first && last ? last.t - first.t : 0;
  const growthBytes = bytesPerSecond * (span / 1000);
  const relativeGrowth = first && first.value > 0 ? growthBytes / first.value : 0;
  let rising = 0;
  let cliff = false;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1] as TrendPoint;
    const cur = points[i] as TrendPoint;
    const tolerance = Math.max(256 * 1024, prev.value * 0.01);
    if (cur.value >= prev.value) rising++;
    else if (prev.value - cur.value > tolerance) cliff = true;
    else rising += 0.5;
  }
  const steps = points.length - 1;
  const risingShare = steps > 0 ? rising / steps : 0;
  const half = points.length >> 1;
  const lateRise =
    half > 0
      ? median(points.slice(points.length - half).map((p) => p.value)) -
        median(points.slice(0, half).map((p) => p.value))
      : 0;
  const factor = source === 'after-full-gc' ? 1 : ENVELOPE_FACTOR;
  const leaking =
    points.length >= 3 &&
    growthBytes >= thresholds.minGrowthBytes * factor &&
    relativeGrowth >= thresholds.minRelativeGrowth * factor &&
    !cliff &&
    risingShare >= 1 - MAX_FALLING_SHARE &&
    lateRise >= growthBytes * LATE_GROWTH_SHARE;
  return { source, points, bytesPerSecond, growthBytes, relativeGrowth, risingShare, leaking };
}
