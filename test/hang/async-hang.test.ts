import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';

/** A connection pool that never hands out a connection (all leaked elsewhere). */
class Pool {
  private readonly waiters: Array<(c: object) => void> = [];
  acquire(): Promise<object> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }
}
const pool = new Pool();

async function loadTasks(): Promise<string[]> {
  const connection = await pool.acquire(); // line 16: the report must point here
  return [String(connection)];
}

async function handleRequest(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 5));
  return loadTasks();
}

t.test('an async operation that never settles points at the pool.acquire() line', async (t) => {
  let report: HangReport | undefined;
  await t.rejects(
    withHangDetection(handleRequest, {
      timeoutMs: 200,
      asyncTrace: true,
      action: 'reject',
      output: 'none',
      onHang: (r) => (report = r),
    }),
    { code: 'ERR_HANG_TIMEOUT' },
  );
  t.ok(report);
  t.equal(report!.kind, 'pending', 'the loop was free');
  const leaf = report!.pending?.[0];
  t.ok(leaf, 'has a leaf resource');
  t.equal(leaf!.type, 'PROMISE');
  t.equal(leaf!.stack[0]?.functionName, 'Pool.acquire', 'the leaf was created in Pool.acquire');
  const site = report!.awaitChain?.find((f) => f.functionName === 'loadTasks');
  t.equal(site?.line, 16, 'the await chain points at the pool.acquire() call');
  t.match(site?.sourceLine, /await pool\.acquire\(\)/);
});

t.test('a timer that never fires in time is the leaf', async (t) => {
  let report: HangReport | undefined;
  const op = withHangDetection(
    async function waitsOnTimer() {
      await new Promise((r) => setTimeout(r, 60_000).unref());
    },
    { timeoutMs: 150, asyncTrace: true, action: 'reject', output: 'none', onHang: (r) => (report = r) },
  );
  await t.rejects(op, { code: 'ERR_HANG_TIMEOUT' });
  t.equal(report?.pending?.[0]?.type, 'Timeout', 'the pending timer is what it waits on');
  t.ok(
    report?.pending?.[0]?.stack.some((f) => f.functionName === 'waitsOnTimer'),
    'created inside waitsOnTimer',
  );
  t.ok(
    report?.pending?.[0]?.stack.some((f) => f.file.endsWith('async-hang.test.ts')),
    'creation stack is in this file',
  );
});

t.test('without asyncTrace the report says how to get more', async (t) => {
  let report: HangReport | undefined;
  await t.rejects(
    withHangDetection(() => new Promise(() => {}), {
      timeoutMs: 100,
      action: 'reject',
      output: 'none',
      onHang: (r) => (report = r),
    }),
  );
  t.equal(report?.kind, 'pending');
  t.equal(report?.pending, undefined);
  t.match(report?.hint, /asyncTrace/);
});

t.test('nested operations each get their own report', async (t) => {
  const reports: HangReport[] = [];
  const onHang = (r: HangReport): void => void reports.push(r);
  const outer = withHangDetection(
    async function outerOp() {
      await withHangDetection(
        async function innerOp() {
          await new Promise(() => {}); // inner waits forever
        },
        { timeoutMs: 150, name: 'inner', asyncTrace: true, action: 'reject', output: 'none', onHang },
      ).catch(() => {});
      await new Promise(() => {}); // then the outer waits forever too
    },
    { timeoutMs: 400, name: 'outer', asyncTrace: true, action: 'reject', output: 'none', onHang },
  );
  await t.rejects(outer, { code: 'ERR_HANG_TIMEOUT' });
  t.same(
    reports.map((r) => r.name),
    ['inner', 'outer'],
  );
  const inner = reports[0]!;
  const outerReport = reports[1]!;
  t.ok(
    inner.pending?.some((p) => p.stack.some((f) => f.functionName === 'innerOp')),
    'inner report shows inner resources',
  );
  t.ok(
    outerReport.pending?.some((p) => p.stack.some((f) => f.functionName === 'outerOp')),
    'outer report shows its own wait',
  );
  t.not(inner.operationId, outerReport.operationId);
});

t.test('an operation that settles in time is not reported and keeps its value or error', async (t) => {
  const reports: HangReport[] = [];
  const v = await withHangDetection(async () => 42, {
    timeoutMs: 500,
    asyncTrace: true,
    onHang: (r) => reports.push(r),
  });
  t.equal(v, 42);
  await t.rejects(
    withHangDetection(
      async () => {
        throw new Error('boom');
      },
      { timeoutMs: 500 },
    ),
    { message: 'boom' },
  );
  t.throws(() => withHangDetection(() => 1, { timeoutMs: -1 }), { code: 'ERR_INVALID_OPTION' });
  await new Promise((r) => setTimeout(r, 600));
  t.equal(reports.length, 0);
});
