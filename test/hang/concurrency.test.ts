import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';

function never(): Promise<never> {
  return new Promise(() => {});
}

/**
 * How long N quick traced operations take from the first start to the last end, on this machine
 * now: a quick operation must not miss its deadline because a loaded machine took that long to
 * start and run the others.
 */
async function quickBatchMs(n: number): Promise<number> {
  const t0 = Date.now();
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    ops.push(
      withHangDetection(
        async function work() {
          await new Promise((r) => setTimeout(r, 1 + (i % 50)));
          return i;
        },
        { timeoutMs: 3_600_000, name: `warm-${i}`, asyncTrace: true, action: 'reject', output: 'none' },
      ),
    );
  }
  await Promise.all(ops);
  return Date.now() - t0;
}

t.test('10,000 concurrent operations: only the hanging ones are reported, each with its own resources', async (t) => {
  const N = 10_000;
  const batchMs = await quickBatchMs(N);
  const timeoutMs = Math.max(8000, 2 * batchMs);
  t.comment(`${N} quick operations took ${batchMs} ms here: timeout ${timeoutMs} ms`);
  const reports: HangReport[] = [];
  const onHang = (r: HangReport): void => void reports.push(r);
  const hanging = new Set<number>();
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const hangs = i % 500 === 7;
    if (hangs) hanging.add(i);
    ops.push(
      withHangDetection(
        async function work() {
          await new Promise((r) => setTimeout(r, 1 + (i % 50)));
          if (hangs) {
            // Each hanging operation waits on (i % 3) + 1 promises of its own.
            await Promise.all(Array.from({ length: (i % 3) + 1 }, never));
          }
          return i;
        },
        { timeoutMs, name: `op-${i}`, asyncTrace: true, action: 'reject', output: 'none', onHang },
      ).catch(() => 'hung'),
    );
  }
  const results = await Promise.all(ops);
  t.equal(results.filter((r) => r === 'hung').length, hanging.size, 'exactly the hanging operations rejected');
  t.same(
    new Set(reports.map((r) => r.name)),
    new Set([...hanging].map((i) => `op-${i}`)),
    'one report per hanging operation',
  );
  t.equal(new Set(reports.map((r) => r.operationId)).size, reports.length, 'distinct operation ids');
  for (const r of reports) {
    const i = Number(r.name.slice(3));
    const neverPromises = (r.pending ?? []).filter((p) => p.type === 'PROMISE' && p.stack[0]?.functionName === 'never');
    const count = neverPromises.reduce((n, p) => n + p.count, 0);
    if (count !== (i % 3) + 1) {
      t.fail(`${r.name}: expected ${(i % 3) + 1} own never-settling promises, got ${count}`);
      return;
    }
  }
  t.pass("each report lists exactly its own operation's pending promises");
});
