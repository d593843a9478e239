/**
 * `watchPool` on generic-pool and on a pool described by an adapter: holders with the operation
 * that acquired them, where and since when; a hang report of an operation waiting on the pool
 * lists them and flags those whose operation already ended (the leak); counts; release paths;
 * stop() puts the pool back; bad input gets typed errors.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createPool } from 'generic-pool';
import t from 'tap';
import {
  createHangDetector,
  InvalidOptionError,
  PoolAlreadyWatchedError,
  UnknownPoolError,
  watchPool,
  withHangDetection,
  type HangReport,
} from '../../lib/index.js';
import { renderHangReportText } from '../../lib/report/index.js';
import { sleep } from '../helpers.js';

const thisFile = fileURLToPath(import.meta.url);

function firstReport(): { report: Promise<HangReport>; onHang: (r: HangReport) => void } {
  let resolve!: (r: HangReport) => void;
  const report = new Promise<HangReport>((r) => (resolve = r));
  return { report, onHang: (r) => resolve(r) };
}

function workerPool(max: number) {
  let next = 1;
  return createPool({ create: async () => ({ id: next++ }), destroy: async () => undefined }, { max, min: 0 });
}

t.test(
  "generic-pool: a waiting operation's report names the holders; one whose operation ended is the leak",
  async (t) => {
    const pool = workerPool(2);
    t.teardown(() => pool.clear());
    const watch = watchPool(pool, { name: 'workers' });
    t.teardown(() => watch.stop());
    t.equal(watch.kind, 'generic-pool');
    const detect = createHangDetector({ timeoutMs: 5000, output: 'none' });

    await detect(
      async () => {
        await pool.acquire(); // LEAKY-ACQUIRE: never released
      },
      'leaky job',
      { jobId: 'j-1' },
    );
    let releaseBusy!: () => void;
    const busy = detect(async () => {
      const r = await pool.acquire();
      await new Promise<void>((res) => (releaseBusy = res));
      await pool.release(r);
    }, 'busy job');
    await sleep(20);
    t.same(watch.counts(), { size: 2, idle: 0, checkedOut: 2, waiting: 0, max: 2 });

    const { report, onHang } = firstReport();
    const victim = withHangDetection(async () => pool.release(await pool.acquire()), {
      name: 'victim',
      timeoutMs: 150,
      output: 'none',
      onHang,
    });
    const r = await report;
    const wait = r.pools?.[0];
    t.ok(wait, 'the report names the pool the operation waits on');
    t.equal(wait!.pool, 'workers');
    t.equal(wait!.kind, 'generic-pool');
    t.ok(wait!.waitingMs >= 140, `waited since the acquire (${wait!.waitingMs} ms)`);
    t.same(wait!.counts, { size: 2, idle: 0, checkedOut: 2, waiting: 1, max: 2 });
    t.equal(wait!.holders.length, 2);
    const [leak, running] = wait!.holders;
    t.equal(leak!.operation?.name, 'leaky job', 'the holder whose operation ended comes first');
    t.same(leak!.operation?.context, { jobId: 'j-1' });
    t.ok(leak!.operation!.endedMsAgo! >= 0, 'flagged: its operation ended');
    t.equal(leak!.acquiredAt[0]?.file, thisFile, 'acquired in this file');
    t.match(leak!.acquiredAt[0]?.sourceLine, /LEAKY-ACQUIRE/, 'at the leaky line');
    t.equal(running!.operation?.name, 'busy job');
    t.equal(running!.operation?.endedMsAgo, undefined, 'still running');
    const text = renderHangReportText(r);
    t.match(
      text,
      /Waiting [\d.]+ ms for a resource of pool "workers" \(generic-pool: 2 checked out of max 2, 0 idle, 1 waiting\)/,
    );
    t.match(
      text,
      /LEAK: leaky job \(#\d+\) finished [\d.]+ m?s ago still holding a resource acquired [\d.]+ m?s ago at .* \(.*watch-pool\.test\.ts:\d+\)/,
    );
    t.match(text, /busy job \(#\d+\) running, holding a resource for/);

    releaseBusy();
    await busy;
    await victim;
    t.equal(watch.holders().length, 1, 'released resources are no longer held; the leaked one still is');
    t.equal(watch.holders()[0]?.operation?.name, 'leaky job');
  },
);

t.test('destroy() ends a hold too; operations outside any hang operation are holders without one', async (t) => {
  const pool = workerPool(3);
  t.teardown(() => pool.clear());
  const watch = watchPool(pool, { name: 'p2' });
  t.teardown(() => watch.stop());
  const a = await pool.acquire();
  const b = await pool.acquire();
  t.equal(watch.holders().length, 2);
  t.equal(watch.holders()[0]?.operation, undefined, 'acquired outside any operation');
  await pool.destroy(a);
  await pool.release(b);
  t.same(watch.holders(), []);
  t.same(watch.counts().checkedOut, 0);
});

t.test('stop() puts the pool back; the pool can be watched again', async (t) => {
  const pool = workerPool(1);
  t.teardown(() => pool.clear());
  const proto = Object.getPrototypeOf(pool) as { acquire: unknown; release: unknown };
  const watch = watchPool(pool);
  t.not(pool.acquire, proto.acquire, 'acquire wrapped while watched');
  t.throws(() => watchPool(pool), PoolAlreadyWatchedError);
  watch.stop();
  watch.stop();
  t.equal(pool.acquire, proto.acquire, 'acquire put back');
  t.equal(pool.release, proto.release, 'release put back');
  t.notOk(Object.hasOwn(pool, 'acquire'), 'no own property left behind');
  const again = watchPool(pool, { name: 'again' });
  again.stop();
});

t.test('acquireStacks: false — holders without a site, still with their operation', async (t) => {
  const pool = workerPool(1);
  t.teardown(() => pool.clear());
  const watch = watchPool(pool, { name: 'fast', acquireStacks: false });
  t.teardown(() => watch.stop());
  await withHangDetection(async () => void (await pool.acquire()), { name: 'quick job', output: 'none' });
  t.same(watch.holders()[0]?.acquiredAt, []);
  t.equal(watch.holders()[0]?.operation?.name, 'quick job');
  t.throws(() => watchPool(workerPool(1), { acquireStacks: 'yes' as unknown as boolean }), InvalidOptionError);
});

t.test('bad input gets typed errors', async (t) => {
  t.throws(() => watchPool({}), UnknownPoolError);
  t.throws(() => watchPool(null as unknown as object), InvalidOptionError);
  t.throws(() => watchPool(workerPool(1), { name: 5 as unknown as string }), InvalidOptionError);
  t.throws(() => watchPool({ take() {} }, { adapter: { acquire: 'missing', release: ['take'] } }), InvalidOptionError);
  t.throws(
    () => watchPool({ take() {} }, { adapter: { acquire: 'take' } }),
    InvalidOptionError,
    'an adapter must say how resources go back',
  );
  t.throws(() => watchPool(workerPool(1), { nmae: 'x' } as never), InvalidOptionError, 'an unknown option key');
  t.throws(
    () => watchPool({ take() {} }, { adapter: { acquire: 'take', relase: ['take'] } as never }),
    InvalidOptionError,
    'an unknown adapter key',
  );
  const err = t.throws(() => watchPool(new Map())) as UnknownPoolError;
  t.equal(err.code, 'ERR_UNKNOWN_POOL');
  t.match(err.message, /Map/);
});

/** A pool whose connections give themselves back (`connection.release()`), with a callback acquire — the mysql2 shape. */
class CallbackPool extends EventEmitter {
  free: Array<{ release(): void }> = [];
  queue: Array<(err: Error | null, c?: { release(): void }) => void> = [];
  all = 0;
  made: Array<{ release(): void }> = [];
  constructor(readonly limit: number) {
    super();
  }
  getConnection(cb: (err: Error | null, c?: { release(): void }) => void): void {
    const c = this.free.pop();
    if (c) return void setImmediate(() => cb(null, c));
    if (this.all < this.limit) {
      this.all++;
      const pool = this;
      const conn = {
        release() {
          const waiter = pool.queue.shift();
          if (waiter) setImmediate(() => waiter(null, conn));
          else pool.free.push(conn);
        },
      };
      this.made.push(conn);
      return void setImmediate(() => cb(null, conn));
    }
    this.queue.push(cb);
  }
}

t.test('adapter: a callback-acquire pool whose resources release themselves', async (t) => {
  const pool = new CallbackPool(1);
  const watch = watchPool(pool, {
    name: 'legacy',
    adapter: {
      kind: 'callback-pool',
      acquire: 'getConnection',
      resourceRelease: 'release',
      counts: (p: CallbackPool) => ({ size: p.all, idle: p.free.length, waiting: p.queue.length, max: p.limit }),
    },
  });
  t.teardown(() => watch.stop());
  const detect = createHangDetector({ timeoutMs: 5000, output: 'none' });
  await detect(() => new Promise<void>((resolve) => pool.getConnection(() => resolve())), 'forgets to release');
  const { report, onHang } = firstReport();
  let got = false;
  const victim = withHangDetection(
    () =>
      new Promise<void>((resolve) =>
        pool.getConnection((_e, c) => {
          got = true;
          c!.release();
          resolve();
        }),
      ),
    { name: 'victim', timeoutMs: 100, output: 'none', onHang },
  );
  const r = await report;
  t.equal(r.pools?.[0]?.kind, 'callback-pool');
  t.same(r.pools?.[0]?.counts, { size: 1, idle: 0, checkedOut: 1, waiting: 1, max: 1 });
  t.equal(r.pools?.[0]?.holders[0]?.operation?.name, 'forgets to release');
  t.ok(r.pools?.[0]?.holders[0]?.operation?.endedMsAgo !== undefined);
  // The leaked connection is released late: the victim gets it, and releases it itself.
  t.equal(watch.holders().length, 1, 'one holder before the late release');
  t.equal(pool.queue.length, 1, 'the victim waits in the queue');
  const leakedConn = pool.made[0]!;
  leakedConn.release();
  await victim;
  t.ok(got, 'the victim got the connection');
  t.same(watch.holders(), [], 'every release went through the wrapped resource method');
});

t.test(
  'a callback the pool retries through its own acquire (as mysql2 does) stays one acquisition, of the operation that began it',
  async (t) => {
    const pool = new CallbackPool(1);
    const watch = watchPool(pool, {
      name: 'retrying',
      adapter: { acquire: 'getConnection', resourceRelease: 'release' },
    });
    t.teardown(() => watch.stop());
    const detect = createHangDetector({ timeoutMs: 5000, output: 'none' });
    let held: { release(): void } | undefined;
    await detect(
      () => new Promise<void>((resolve) => pool.getConnection((_e, c) => resolve(void (held = c)))),
      'holder',
    );
    let got = false;
    const victim = detect(
      () => new Promise<void>((resolve) => pool.getConnection(() => resolve(void (got = true)))),
      'victim',
    );
    t.equal(watch.counts().waiting, 1);
    // Another operation makes the pool retry the queued callback; the pool is still full, so it queues again.
    await detect(async () => {
      const queued = pool.queue.shift()!;
      pool.getConnection(queued);
    }, 'retrier');
    t.equal(pool.queue.length, 1, 'queued again');
    t.equal(watch.counts().waiting, 1, 'one acquisition waits, not two');
    held!.release();
    await victim;
    t.ok(got);
    t.equal(watch.holders()[0]?.operation?.name, 'victim', 'held by the operation that began the acquisition');
  },
);
