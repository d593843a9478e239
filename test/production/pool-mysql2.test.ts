/**
 * `watchPool` on real mysql2 pools against MariaDB — the callback pool (`mysql2.createPool`) and
 * the promise pool (`mysql2/promise`): a request that finished without releasing its connection is
 * flagged in the report of a request waiting for one; `pool.query()`, `release()` and `destroy()`
 * give connections back; the counts and the Prometheus gauges are the pool's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import mysql, { type PoolConnection } from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import t from 'tap';
import {
  createHangDetector,
  PoolAlreadyWatchedError,
  watchPool,
  withHangDetection,
  type HangReport,
} from '../../lib/index.js';
import { renderHangReportText } from '../../lib/report/index.js';
import { servicesRequired } from '../helpers.js';
import { assertPoolGauges } from './helpers/pool-gauges.js';
import { startMariadb } from './helpers/services.js';

const thisFile = fileURLToPath(import.meta.url);
const leakLine =
  readFileSync(thisFile, 'utf8')
    .split('\n')
    .findIndex((l) => l.trim() === `// ${'LEAK'}-LINE (the next line): not released on this path`) + 2;

function firstReport(): { report: Promise<HangReport>; onHang: (r: HangReport) => void } {
  let resolve!: (r: HangReport) => void;
  const report = new Promise<HangReport>((r) => (resolve = r));
  return { report, onHang: (r) => resolve(r) };
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
}

const started = await startMariadb();
if (!started.ok) {
  if (servicesRequired()) t.fail(`CI must start MariaDB: ${started.reason}`);
  else t.plan(0, `skipped: ${started.reason}`);
} else {
  const db = started.value;
  t.teardown(() => db.stop());
  const config = {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    connectionLimit: 2,
  };

  t.test(
    "mysql2 callback pool: the waiting request's report flags the finished request still holding a connection",
    async (t) => {
      const pool = mysql.createPool(config);
      const watch = watchPool(pool, { name: 'db' });
      let leaked: PoolConnection | undefined;
      t.teardown(async () => {
        watch.stop();
        leaked?.release();
        await new Promise((r) => pool.end(r));
      });
      t.equal(watch.kind, 'mysql2');
      const requests = createHangDetector({ timeoutMs: 10_000, output: 'none' });
      const query = (sql: string) =>
        new Promise<unknown>((resolve, reject) => pool.query(sql, (err, rows) => (err ? reject(err) : resolve(rows))));
      const connect = () =>
        new Promise<PoolConnection>((resolve, reject) =>
          pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
        );

      t.same(
        await requests(() => query('select 1 as one'), 'GET /health'),
        [{ one: 1 }],
        'pool.query gives its connection back',
      );
      await requests(async () => (await connect()).destroy(), 'GET /broken');
      await requests(async () => (await connect()).release(), 'GET /ok');
      t.same(watch.holders(), [], 'no holder after pool.query, destroy() and release()');
      t.same(
        watch.counts(),
        { size: 1, idle: 1, checkedOut: 0, waiting: 0, max: 2 },
        'the destroyed connection left the pool',
      );

      await requests(
        () =>
          new Promise<void>((resolve, reject) =>
            // LEAK-LINE (the next line): not released on this path
            pool.getConnection((err, c) => {
              if (err) return reject(err);
              leaked = c;
              resolve();
            }),
          ),
        'GET /tasks/:id',
        { requestId: 'req-leak' },
      );
      let releaseBusy!: () => void;
      const busy = requests(async () => {
        const c = await connect();
        await new Promise<void>((r) => (releaseBusy = r));
        c.release();
      }, 'POST /import');
      await until(() => watch.holders().length === 2);

      const { report, onHang } = firstReport();
      const victim = withHangDetection(() => query('select 2 as two'), {
        name: 'GET /tasks',
        timeoutMs: 200,
        output: 'none',
        onHang,
      });
      const r = await report;
      const wait = r.pools?.[0];
      t.equal(wait?.pool, 'db');
      t.equal(wait?.kind, 'mysql2');
      t.same(wait?.counts, { size: 2, idle: 0, checkedOut: 2, waiting: 1, max: 2 });
      t.equal(wait?.holders[0]?.operation?.name, 'GET /tasks/:id', 'the holder whose request finished comes first');
      t.equal(wait?.holders[0]?.operation?.context?.requestId, 'req-leak');
      t.ok(wait?.holders[0]?.operation?.endedMsAgo !== undefined, 'its request ended');
      t.equal(wait?.holders[0]?.acquiredAt[0]?.file, thisFile);
      t.equal(
        wait?.holders[0]?.acquiredAt[0]?.line,
        leakLine,
        `acquired at the leaking line (${JSON.stringify(wait?.holders[0]?.acquiredAt.slice(0, 2))})`,
      );
      t.match(wait?.holders[0]?.acquiredAt[0]?.sourceLine, /pool\.getConnection\(/);
      t.equal(wait?.holders[1]?.operation?.name, 'POST /import');
      t.equal(wait?.holders[1]?.operation?.endedMsAgo, undefined, 'still running');
      const text = renderHangReportText(r);
      t.match(
        text,
        /Waiting [\d.]+ m?s for a connection of pool "db" \(mysql2: 2 checked out of max 2, 0 idle, 1 waiting\)/,
      );
      t.match(
        text,
        /LEAK: GET \/tasks\/:id \(#\d+, requestId=req-leak\) finished [\d.]+ m?s ago still holding a connection acquired [\d.]+ m?s ago at /,
      );

      await assertPoolGauges(t, 'db', { size: 2, idle: 0, checked_out: 2, waiting: 1, max: 2, held_after_end: 1 });

      releaseBusy();
      await busy;
      t.same(await victim, [{ two: 2 }], 'the waiting request got the released connection');
      t.equal(watch.holders().length, 1, 'only the leaked connection is still held');
      t.equal(watch.holders()[0]?.operation?.name, 'GET /tasks/:id');
    },
  );

  t.test(
    'mysql2/promise pool: holders, the leak in the report, one pool with the callback pool inside it, stop()',
    async (t) => {
      const pool = mysqlPromise.createPool(config);
      const original = pool.pool.getConnection;
      const watch = watchPool(pool, { name: 'orders' });
      let leaked: mysqlPromise.PoolConnection | undefined;
      t.teardown(async () => {
        watch.stop();
        leaked?.release();
        await pool.end();
      });
      t.equal(watch.kind, 'mysql2/promise');
      t.throws(() => watchPool(pool.pool), PoolAlreadyWatchedError, 'its callback pool is the same pool');
      const requests = createHangDetector({ timeoutMs: 10_000, output: 'none' });

      const [rows] = await requests(() => pool.query('select 1 as one'), 'GET /health');
      t.same(rows, [{ one: 1 }]);
      await requests(async () => (await pool.getConnection()).release(), 'GET /ok');
      t.same(watch.holders(), [], 'pool.query() and release() give connections back');

      await requests(
        async () => {
          leaked = await pool.getConnection(); // PROMISE-LEAK: not released
          await leaked.query('select 1');
        },
        'GET /orders/:id',
        { requestId: 'req-7' },
      );
      let releaseBusy!: () => void;
      const busy = requests(async () => {
        const c = await pool.getConnection();
        await new Promise<void>((r) => (releaseBusy = r));
        c.destroy(); // broken: mysql2 then retries the waiting acquisition with a new connection
      }, 'POST /orders');
      await until(() => watch.holders().length === 2);
      t.same(watch.counts(), { size: 2, idle: 0, checkedOut: 2, waiting: 0, max: 2 });

      const { report, onHang } = firstReport();
      const victim = withHangDetection(
        async () => {
          const c = await pool.getConnection();
          c.release();
          return 'served';
        },
        { name: 'GET /orders', timeoutMs: 200, output: 'none', onHang },
      );
      const r = await report;
      const wait = r.pools?.[0];
      t.equal(wait?.kind, 'mysql2/promise');
      t.same(wait?.counts, { size: 2, idle: 0, checkedOut: 2, waiting: 1, max: 2 });
      t.equal(wait?.holders[0]?.operation?.name, 'GET /orders/:id');
      t.ok(wait?.holders[0]?.operation?.endedMsAgo !== undefined, 'flagged: its request ended');
      t.equal(wait?.holders[0]?.acquiredAt[0]?.file, thisFile, 'the acquire site is the application line, not mysql2');
      t.match(wait?.holders[0]?.acquiredAt[0]?.sourceLine, /PROMISE-LEAK/);
      t.match(
        renderHangReportText(r),
        /LEAK: GET \/orders\/:id \(#\d+, requestId=req-7\) finished [\d.]+ m?s ago still holding a connection/,
      );

      releaseBusy();
      await busy;
      t.equal(await victim, 'served', 'the waiting request got a new connection');
      t.same(
        watch.holders().map((h) => h.operation?.name),
        ['GET /orders/:id'],
        'only the leaked connection is held: the destroyed one and the retried acquisition are accounted for',
      );
      t.same(watch.counts(), { size: 2, idle: 1, checkedOut: 1, waiting: 0, max: 2 });
      watch.stop();
      t.equal(pool.pool.getConnection, original, 'stop() puts the pool back');
      t.equal(watchPool(pool.pool.promise()).kind, 'mysql2/promise', 'pool.promise() is recognised too');
    },
  );
}
