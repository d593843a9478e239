// hangwatch's own pauses (a heap snapshot, the CPU profiler, a report) are recorded and kept out
// of what measures the program: the sampler's event-loop delay and utilization, and the block
// monitor's events carry the part that was hangwatch's.
import t from 'tap';
import {
  measureSelfPause,
  recentSelfPauses,
  selfPauseOverlap,
  selfPauseTotalMs,
} from '../../lib/capture/self-pause.js';
import { writeHeapSnapshot } from '../../lib/heap/write-heap-snapshot.js';
import { monitorEventLoop, type BlockEvent } from '../../lib/index.js';
import { startIntervalSampler } from '../../lib/process/interval-sampler.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../helpers.js';

const spin = (ms: number): void => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

t.test('measureSelfPause records the synchronous part, and overlaps are computed on it', async (t) => {
  const before = selfPauseTotalMs();
  const value = measureSelfPause('report', () => {
    spin(30);
    return 7;
  });
  t.equal(value, 7);
  const last = recentSelfPauses().at(-1)!;
  t.equal(last.reason, 'report');
  t.ok(last.durationMs >= 29, `${last.durationMs} ms`);
  t.ok(selfPauseTotalMs() - before >= 29);
  const o = selfPauseOverlap(last.startedAtMs - 100, last.startedAtMs + 10);
  t.equal(o.reason, 'report');
  t.ok(Math.abs(o.ms - 10) < 0.01, `overlap ${o.ms}`);
  t.same(selfPauseOverlap(last.startedAtMs + last.durationMs + 1, last.startedAtMs + last.durationMs + 50), { ms: 0 });
  t.throws(
    () =>
      measureSelfPause('report', () => {
        throw new Error('boom');
      }),
    /boom/,
    'a throwing fn still rethrows',
  );
});

t.test(
  "the sampler's delay and utilization leave hangwatch's pauses out; the program's own block stays in",
  async (t) => {
    // Its own timer must not end an interval in the middle: the test ends them.
    const sampler = startIntervalSampler({ intervalMs: 600_000 });
    await sleep(100);
    measureSelfPause('heap-snapshot', () => spin(400));
    await sleep(100);
    const own = sampler.sampleNow();
    await sleep(100);
    spin(400); // the program's own
    await sleep(100);
    const program = sampler.sampleNow();
    sampler.stop();
    t.ok((own.selfPauseMs ?? 0) >= 399, `hangwatch's pause recorded (${own.selfPauseMs} ms)`);
    t.ok(own.loopDelay.maxMs < 150, `not in the delay (${own.loopDelay.maxMs} ms; the machine may add some)`);
    t.ok(program.loopDelay.maxMs >= 350, `the program's block is (${program.loopDelay.maxMs} ms)`);
    t.ok(
      program.loopUtilization > own.loopUtilization,
      `utilization ${own.loopUtilization} (hangwatch's) < ${program.loopUtilization} (the program's)`,
    );
    t.equal(program.selfPauseMs, undefined);
  },
);

t.test("a block during a heap snapshot is marked as hangwatch's, and the snapshot is a recorded pause", async (t) => {
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 100, onBlock: (e) => events.push(e) });
  await monitor.ready();
  const dir = mkdtempSync(join(tmpdir(), 'hw-self-pause-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Something to walk, so that the snapshot pauses the loop for a while.
  const ballast = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `v${i}` }));
  const seen = recentSelfPauses().length;
  await writeHeapSnapshot({ dir });
  const pause = recentSelfPauses()
    .slice(seen)
    .find((p) => p.reason === 'heap-snapshot');
  t.ok(pause && pause.durationMs > 0, `snapshot pause recorded (${pause?.durationMs} ms)`);
  for (let waited = 0; waited < 3000 && !events.some((e) => e.hangwatchPause); waited += 20) await sleep(20);
  monitor.stop();
  t.ok(ballast.length);
  if (!pause || pause.durationMs < 150) {
    t.comment(`the snapshot took only ${pause?.durationMs} ms: no block to mark`);
    return;
  }
  const marked = events.find((e) => e.hangwatchPause);
  t.ok(marked, `the block is marked (${JSON.stringify(events.map((e) => [e.durationMs, e.hangwatchPause]))})`);
  t.equal(marked?.hangwatchPause?.reason, 'heap-snapshot');
  t.ok(
    (marked?.hangwatchPause?.ms ?? 0) >= Math.min(pause.durationMs, marked!.durationMs) - 25,
    'most of it was the snapshot',
  );
});
