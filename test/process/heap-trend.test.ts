// The doctor's leak rule on synthetic series: a slow leak in a steady heap is found, a steady
// heap with the same noise, a warm-up step and a flushed cache are not, and hangwatch's own
// collections (a heap snapshot) neither hide nor fake a trend.
import t from 'tap';
import { DEFAULT_THRESHOLDS } from '../../lib/process/diagnose.js';
import {
  judgeHeapTrend,
  oldGenerationSeries,
  postGcHeapSeries,
  robustSlopePerSecond,
  withoutWarmUpJump,
} from '../../lib/process/heap-trend.js';
import { series } from './synthetic-samples.js';

const th = {
  minGrowthBytes: DEFAULT_THRESHOLDS.leakMinGrowthBytes,
  minRelativeGrowth: DEFAULT_THRESHOLDS.leakMinRelativeGrowth,
};
const MB = 1e6;
// Deterministic noise of ±60 kB, about what live-heap readings of a server under load vary by once
// warmed up (20–100 kB in the doctor's runs of the fixture servers).
const noise = (i: number) => [0, 45e3, -60e3, 20e3, -30e3, 60e3, -15e3, 5e3][i % 8] as number;
/** 40 samples of 250 ms (10 s), a live-heap reading every 1.5 s and one at the end, as `hangwatch doctor --duration 10` takes them. */
const run = (live: (tSeconds: number, i: number) => number) =>
  series(40, (i) =>
    (i + 1) % 6 === 0 || i === 39 ? { liveHeapBytes: live(((i + 1) * 250) / 1000, i) + noise(i) } : {},
  );

t.test('robust slope: one wild reading moves it little', async (t) => {
  const points = [0, 1, 2, 3, 4, 5, 6].map((s) => ({ t: s * 1000, value: 100 + s * 10 }));
  t.equal(robustSlopePerSecond(points), 10);
  points[3]!.value = 10_000;
  t.equal(robustSlopePerSecond(points), 10);
});

t.test('a 5 MB/min leak in a 30 MB heap over 10 s is found', async (t) => {
  const s = run((sec) => 30 * MB + (5 * MB * sec) / 60);
  const { source, points } = postGcHeapSeries(s);
  t.equal(source, 'after-full-gc');
  const trend = judgeHeapTrend(source, points, th);
  t.ok(
    trend.leaking,
    JSON.stringify({ growth: trend.growthBytes, rel: trend.relativeGrowth, rising: trend.risingShare }),
  );
  t.ok(Math.abs(trend.bytesPerSecond * 60 - 5 * MB) < 2.5 * MB, `slope ${(trend.bytesPerSecond * 60) / MB} MB/min`);
});

t.test('the same heap in a steady state, with the same noise, is not', async (t) => {
  const { source, points } = postGcHeapSeries(run(() => 30 * MB));
  t.notOk(judgeHeapTrend(source, points, th).leaking);
});

t.test('a small server warming up (its live heap grows fast, then slowly, by ~0.5 MB) is not', async (t) => {
  // Live-heap readings of the blocking fixture server in a doctor run (MB).
  const readings = [5.91, 6.24, 6.34, 6.45, 6.47];
  const s = series(48, (i) => (i % 8 === 7 && i > 8 ? { liveHeapBytes: (readings[(i - 15) / 8] ?? 6.47) * MB } : {}));
  const { source, points } = postGcHeapSeries(s);
  t.notOk(judgeHeapTrend(source, points, th).leaking, JSON.stringify(points.map((p) => p.value / MB)));
});

t.test(
  'load that starts late (one jump after the warm-up fifth) is not a leak; a leak after it still is',
  async (t) => {
    // Live-heap readings of the bounded cache server in a doctor run on a loaded machine (MB).
    const bounded = [27.56, 27.59, 28.15, 28.08, 28.04, 28.23].map((v, i) => ({ t: 3000 + i * 1400, value: v * MB }));
    t.notOk(judgeHeapTrend('after-full-gc', bounded, th).leaking, 'the bounded cache');
    t.ok(withoutWarmUpJump(bounded)[2]!.value < 27.7 * MB, 'the jump is taken out');
    const leak = Array.from({ length: 9 }, (_, i) => ({
      t: 3000 + i * 1400,
      value: (28 + (i >= 2 ? 0.6 : 0) + i * 0.12) * MB,
    }));
    t.ok(judgeHeapTrend('after-full-gc', leak, th).leaking, 'a leak of 0.12 MB per reading behind the same jump');
    const steady = [5.91, 6.0, 6.1, 6.2, 6.3, 6.4].map((v, i) => ({ t: i * 1000, value: v * MB }));
    t.same(withoutWarmUpJump(steady), steady, 'no jump in a steady rise');
  },
);

t.test('a warm-up step (modules, code, pools) then flat is not; nor a cache that grows and is flushed', async (t) => {
  const warm = postGcHeapSeries(run((sec) => (sec < 3 ? 28 * MB : 30 * MB)));
  t.notOk(judgeHeapTrend(warm.source, warm.points, th).leaking, 'warm-up');
  const flushed = postGcHeapSeries(run((sec) => (sec < 8 ? 30 * MB + sec * 0.3 * MB : 30 * MB)));
  t.notOk(judgeHeapTrend(flushed.source, flushed.points, th).leaking, 'flushed');
});

t.test('relative: the same absolute growth is a leak in a small heap and noise in a large one', async (t) => {
  const small = postGcHeapSeries(run((sec) => 20 * MB + sec * 0.1 * MB));
  t.ok(judgeHeapTrend(small.source, small.points, th).leaking, '1 MB in 20 MB');
  const large = postGcHeapSeries(run((sec) => 500 * MB + sec * 0.1 * MB));
  t.notOk(judgeHeapTrend(large.source, large.points, th).leaking, '1 MB in 500 MB');
});

t.test('no full collection in the run: the old generation, with what a heap snapshot freed added back', async (t) => {
  // Old generation rising 300 kB/s (promoted leak; this fallback asks for 4× the thresholds); a heap
  // snapshot at 2.5 s collects 4 MB of old garbage.
  const s = series(40, (i) => {
    const sec = ((i + 1) * 250) / 1000;
    const snapshot = i === 10;
    return {
      oldGenerationBytes: 30 * MB + sec * 0.3 * MB - (i >= 10 ? 4 * MB : 0),
      ...(snapshot
        ? { selfPauseMs: 1800, gc: { count: 0, majorCount: 0, pauseMs: 0, maxPauseMs: 0, hangwatchCount: 2 } }
        : {}),
    };
  });
  t.same(
    oldGenerationSeries(s)
      .slice(9, 12)
      .map((p) => Math.round(p.value / 1e3)),
    [30750, 30750, 30825],
    'the snapshot drop is added back (with that step of growth)',
  );
  const { source, points } = postGcHeapSeries(s);
  t.equal(source, 'old-generation');
  t.ok(judgeHeapTrend(source, points, th).leaking, 'the trend is not hidden by the snapshot');
  // Without the compensation the same readings fall: that is what hid the leak.
  const raw = s.map((x) => ({ t: x.t, value: x.oldGenerationBytes as number }));
  t.notOk(judgeHeapTrend('old-generation', raw, th).leaking, 'raw readings look like no leak');
  // A steady old generation with a snapshot is still steady.
  const steady = series(40, (i) => ({
    oldGenerationBytes: 30 * MB - (i >= 10 ? 4 * MB : 0),
    ...(i === 10 ? { selfPauseMs: 1800 } : {}),
  }));
  const st = postGcHeapSeries(steady);
  t.notOk(judgeHeapTrend(st.source, st.points, th).leaking);
});

t.test('readings of the warm-up fifth of the run are not judged', async (t) => {
  const s = run((sec) => (sec < 2 ? 10 * MB : 30 * MB));
  const { points } = postGcHeapSeries(s);
  t.ok(
    points.every((p) => p.t >= 2000),
    points.map((p) => p.t).join(','),
  );
});
