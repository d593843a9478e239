// Leak suspicion from the post-GC heap trend: a growing heap triggers it, a flat one does not.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { HeapGrowthDetector, monitorGc, type LeakSuspicion } from '../../lib/gc/monitor.js';

const run = promisify(execFile);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const child = fileURLToPath(new URL('./fixtures/heap-trend.ts', import.meta.url));

async function trend(mode: 'grow' | 'flat') {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child, mode, '12'], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as {
    suspicions: LeakSuspicion[];
    forcedMajors: number;
    withHeap: number;
    stats: ReturnType<ReturnType<typeof monitorGc>['stats']>;
  };
}

t.test('a growing post-GC heap triggers the leak suspicion, with the trend', async (t) => {
  const r = await trend('grow');
  t.ok(r.forcedMajors >= 12, `forced major GCs observed: ${r.forcedMajors}`);
  t.ok(r.suspicions.length >= 1, `suspicions: ${r.suspicions.length}`);
  const s = r.suspicions[0]!;
  t.equal(s.consecutiveGrowth, 5);
  t.equal(s.trend.length, 6, 'base + 5 growing points');
  t.ok(
    s.trend.every((p, i) => i === 0 || p.heapUsed > s.trend[i - 1]!.heapUsed),
    'trend is strictly increasing',
  );
  t.ok(s.bytesPerGc > 1_000_000, `slope ${Math.round(s.bytesPerGc)} B/GC ~ 2 MB per round`);
  t.ok(s.growthBytes >= 5_000_000);
  t.match(s.message, /possible memory leak/);
  t.ok(r.stats.leaksSuspected >= 1);
  t.ok(r.stats.byKind.major.count >= 12);
  t.ok(r.stats.heapAfterMajorGc.length >= 12);
});

t.test('a flat post-GC heap does not', async (t) => {
  const r = await trend('flat');
  t.ok(r.forcedMajors >= 12, `forced major GCs observed: ${r.forcedMajors}`);
  t.ok(r.withHeap >= 12, 'every forced GC got a heap reading');
  t.same(r.suspicions, [], 'no suspicion');
  t.equal(r.stats.leaksSuspected, 0);
});

t.test('detector rules: streak length, minimum step, minimum total, reset after report', async (t) => {
  const at = (heapUsed: number, i: number) => ({ heapUsed, timestamp: 1000 * i });
  const d = new HeapGrowthDetector(3, 100, 1000);
  t.notOk(d.push(at(10_000, 0)));
  t.notOk(d.push(at(10_500, 1)));
  t.notOk(d.push(at(10_550, 2)), 'a step of 50 <= minGrowthBytes breaks the streak');
  t.equal(d.streak, 0);
  t.notOk(d.push(at(11_000, 3)));
  t.notOk(d.push(at(11_500, 4)));
  const s = d.push(at(12_000, 5));
  t.ok(s, 'three growths of 450-500 bytes totalling 1450 >= 1000');
  t.equal(s!.growthBytes, 1450);
  t.equal(s!.bytesPerGc, 485);
  t.equal(s!.bytesPerSecond, 485);
  t.equal(d.streak, 0, 'streak restarts after a report');
  const small = new HeapGrowthDetector(2, 0, 1000);
  small.push(at(0, 0));
  small.push(at(300, 1));
  t.notOk(small.push(at(600, 2)), 'two growths but only 600 bytes in total');
  t.ok(small.push(at(1200, 3)), 'reported once the total passes the minimum');
});

t.test('options are validated, callbacks cannot crash the process, stop is idempotent', async (t) => {
  t.throws(() => monitorGc({ consecutiveGrowth: 0 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => monitorGc({ onGc: 'x' as never }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => monitorGc({ minGrowthBytes: -1 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => monitorGc(7 as never), { code: 'ERR_INVALID_OPTION' });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const m = monitorGc({
    onGc: () => {
      throw new Error('user bug');
    },
  });
  gc();
  // observer entries are delivered asynchronously: wait for the first one (bounded)
  for (let i = 0; i < 200 && m.stats().count === 0; i++) await new Promise((r) => setTimeout(r, 10));
  m.stop();
  m.stop();
  t.equal(m.active, false);
  t.ok(m.stats().count >= 1, 'saw a GC');
  t.ok(
    warnings.some((w) => w.includes('user bug')),
    'the callback error became a warning',
  );
});
