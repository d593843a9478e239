/**
 * `watchPool` on a real `pg.Pool` against PostgreSQL: a request that finished without releasing
 * its client is flagged in the report of a request waiting for a connection; `pool.query()`
 * and `client.release(err)` give connections back; the Prometheus gauges show the counts and the
 * connections held after their operation ended.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import { createHangDetector, watchPool, withHangDetection, type HangReport } from '../../lib/index.js';
import { renderHangReportText } from '../../lib/report/index.js';
import { servicesRequired } from '../helpers.js';
import { assertPoolGauges } from './helpers/pool-gauges.js';
import { startPostgres } from './helpers/services.js';

const thisFile = fileURLToPath(import.meta.url);
const started = await startPostgres();
if (!started.ok) {
  if (servicesRequired()) t.fail(`CI must start PostgreSQL: ${started.reason}`);
  else t.plan(0, `skipped: ${started.reason}`);
} else {
  const postgres = started.value;
  t.teardown(() => postgres.stop());

  t.test("pg.Pool: the waiting request's report flags the finished request still holding a connection", async (t) => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('error', () => undefined);
    const watch = watchPool(pool, { name: 'db' });
    let leaked: pg.PoolClient | undefined;
    t.teardown(async () => {
      watch.stop();
      leaked?.release(); // pool.end() waits for every checked-out client
      await pool.end().catch(() => undefined);
    });
    t.equal(watch.kind, 'pg.Pool');
    const requests = createHangDetector({ timeoutMs: 10_000, output: 'none' });
    t.equal(
      (await requests(() => pool.query('select 1 as one'), 'GET /health')).rows[0].one,
      1,
      'pool.query gives its client back',
    );
    const bad = await requests(async () => {
      const c = await pool.connect();
      c.release(new Error('broken connection')); // removed from the pool
    }, 'GET /broken');
    void bad;
    t.same(watch.holders(), [], 'no holder after pool.query and release(err)');

    await requests(
      async () => {
        const client = await pool.connect(); // LEAK-LINE: not released on this path
        await client.query('select 1');
        leaked = client;
      },
      'GET /tasks/:id',
      { requestId: 'req-leak' },
    );
    let releaseBusy!: () => void;
    const busy = requests(async () => {
      const client = await pool.connect();
      await new Promise<void>((r) => (releaseBusy = r));
      client.release();
    }, 'POST /import');
    while (watch.holders().length < 2) await new Promise((r) => setTimeout(r, 10));

    let resolveReport!: (r: HangReport) => void;
    const reported = new Promise<HangReport>((r) => (resolveReport = r));
    const victim = withHangDetection(async () => (await pool.query('select 2 as two')).rows, {
      name: 'GET /tasks',
      timeoutMs: 200,
      output: 'none',
      onHang: (r) => resolveReport(r),
    });
    const r = await reported;
    const wait = r.pools?.[0];
    t.equal(wait?.pool, 'db');
    t.same(wait?.counts, { size: 2, idle: 0, checkedOut: 2, waiting: 1, max: 2 });
    t.equal(wait?.holders[0]?.operation?.name, 'GET /tasks/:id');
    t.equal(wait?.holders[0]?.operation?.context?.requestId, 'req-leak');
    t.ok(wait?.holders[0]?.operation?.endedMsAgo !== undefined, 'its operation ended');
    t.equal(wait?.holders[0]?.acquiredAt[0]?.file, thisFile);
    t.match(wait?.holders[0]?.acquiredAt[0]?.sourceLine, /LEAK-LINE/);
    t.equal(wait?.holders[1]?.operation?.name, 'POST /import');
    t.equal(wait?.holders[1]?.operation?.endedMsAgo, undefined);
    const text = renderHangReportText(r);
    t.match(
      text,
      /Waiting [\d.]+ m?s for a connection of pool "db" \(pg\.Pool: 2 checked out of max 2, 0 idle, 1 waiting\)/,
    );
    t.match(
      text,
      /LEAK: GET \/tasks\/:id \(#\d+, requestId=req-leak\) finished [\d.]+ m?s ago still holding a connection acquired [\d.]+ m?s ago at /,
    );

    await assertPoolGauges(t, 'db', { checked_out: 2, waiting: 1, max: 2, held_after_end: 1 });

    releaseBusy();
    await busy;
    t.same(await victim, [{ two: 2 }], 'the waiting request got the released connection');
    t.equal(watch.holders().length, 1, 'only the leaked connection is still held');
  });
}
