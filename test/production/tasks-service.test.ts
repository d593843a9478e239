/**
 * The pool-exhaustion story end to end, on a real PostgreSQL: the example tasks service
 * (examples/tasks-service, run as its own process) leaks a pool connection on its 404 path; under
 * concurrent load the stuck requests' hang reports name the `pool.connect()` line and the leaking
 * handler. With the fix, 500 concurrent requests all succeed and nothing is reported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { HangReport } from '../../lib/index.js';
import { root, servicesRequired } from '../helpers.js';
import { concurrentGets, startChildService } from './helpers/child-service.js';
import { startPostgres } from './helpers/services.js';

const server = join(root, 'examples/tasks-service/server.ts');
const appFile = join(root, 'examples/tasks-service/app.ts');
const appLines = readFileSync(appFile, 'utf8').split('\n');
const connectLine = appLines.findIndex((l) => l.includes('await pool.connect(); // ← hangwatch')) + 1;

function reportsOf(stderr: string): HangReport[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{"schema":"hangwatch.hang-report"'))
    .map((l) => JSON.parse(l) as HangReport);
}

const pg = await startPostgres();
if (!pg.ok) {
  if (servicesRequired()) t.fail(`CI must start PostgreSQL: ${pg.reason}`);
  else t.plan(0, `skipped: ${pg.reason}`);
} else {
  t.teardown(() => pg.value.stop());
  t.ok(connectLine > 0, 'the example marks its pool.connect() line');

  t.test('leaky handler: stuck requests report the pool.connect() line and the handler', async (t) => {
    const svc = await startChildService(server, {
      DATABASE_URL: pg.value.url,
      PORT: '0',
      HANGWATCH_TIMEOUT_MS: '1000',
      HANGWATCH_FORMAT: 'json',
    });
    t.teardown(() => svc.stop());
    // Five requests for an unknown project: 404, each keeps a connection.
    const leaks = await concurrentGets(
      Array.from({ length: 5 }, () => `${svc.url}/tasks?project=nope`),
      (i) => ({ headers: { 'x-request-id': `leak-${i}` } }),
    );
    t.same(leaks, [404, 404, 404, 404, 404], 'the leaking path answers 404');
    // Now the pool is exhausted: concurrent list requests wait forever in pool.connect().
    const ids = Array.from({ length: 40 }, (_, i) => `load-${i}`);
    const ctl = new AbortController();
    const pending = concurrentGets(
      ids.map(() => `${svc.url}/tasks`),
      (i) => ({ headers: { 'x-request-id': ids[i] as string }, signal: ctl.signal }),
    );
    const deadline = Date.now() + 20_000;
    let reports: HangReport[] = [];
    while (Date.now() < deadline) {
      reports = reportsOf(svc.stderr());
      if (reports.length >= ids.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ctl.abort();
    const statuses = await pending;
    t.ok(
      statuses.every((s) => s === 0),
      'no stuck request got an answer',
    );
    // The deadlines come in a burst; hangwatch's own report building must not make the later
    // reports claim a blocked loop (a few may, when the machine itself stalls the loop).
    const pendingKind = reports.filter((r) => r.kind === 'pending').length;
    t.ok(
      pendingKind >= reports.length / 2,
      `the loop is free: the requests wait on something (${pendingKind} of ${reports.length} say so)`,
    );
    t.equal(reports.length, ids.length, 'one report per stuck request');
    t.same(new Set(reports.map((r) => r.context?.requestId)), new Set(ids), "reports carry the callers' X-Request-Id");
    for (const r of reports) {
      t.ok(r.kind === 'pending' || r.kind === 'blocked', 'pending (or blocked by the burst of simultaneous reports)');
      t.equal(r.context?.method, 'GET');
      t.equal(r.context?.route, '/tasks');
      const leaf = r.pending?.[0];
      t.ok(leaf, 'the report names what the request waits on');
      const frame = leaf?.stack.find((f) => f.file === appFile);
      t.equal(frame?.line, connectLine, `waits on app.ts:${connectLine}, the pool.connect() line`);
      t.match(frame?.functionName, /listTasks/, 'in the leaking handler');
      t.match(frame?.sourceLine, /pool\.connect\(\)/);
      // watchPool: who holds the connections — the five 404 requests, finished, never released.
      const wait = r.pools?.[0];
      t.equal(wait?.pool, 'tasks-db', 'the report names the pool it waits on');
      t.equal(wait?.kind, 'pg.Pool');
      t.same(wait && { checkedOut: wait.counts.checkedOut, max: wait.counts.max, idle: wait.counts.idle }, {
        checkedOut: 5,
        max: 5,
        idle: 0,
      });
      t.ok((wait?.counts.waiting ?? 0) >= 1, 'this request among the waiting');
      t.equal(wait?.holders.length, 5, 'five holders');
      for (const h of wait?.holders ?? []) {
        t.equal(h.operation?.name, 'GET /tasks', 'held by a GET /tasks request');
        t.ok(h.operation?.endedMsAgo !== undefined, 'whose request already finished: the leak');
        t.ok(String(h.operation?.context?.requestId).startsWith('leak-'), 'named by its request id');
        t.equal(h.acquiredAt[0]?.file, appFile);
        t.equal(h.acquiredAt[0]?.line, connectLine, 'acquired at the pool.connect() line');
      }
    }
  });

  t.test('fixed handler: 500 concurrent requests all succeed, no hang reports', async (t) => {
    const svc = await startChildService(server, {
      DATABASE_URL: pg.value.url,
      PORT: '0',
      TASKS_FIXED: '1',
      HANGWATCH_TIMEOUT_MS: '20000',
      HANGWATCH_FORMAT: 'json',
    });
    t.teardown(() => svc.stop());
    const urls = Array.from({ length: 500 }, (_, i) =>
      i % 2 === 0 ? `${svc.url}/tasks?project=nope` : `${svc.url}/tasks`,
    );
    const statuses = await concurrentGets(urls);
    const expected = urls.map((u) => (u.includes('nope') ? 404 : 200));
    t.same(statuses, expected, '250 × 404 (the former leak path) and 250 × 200');
    const again = await concurrentGets(Array.from({ length: 50 }, () => `${svc.url}/tasks?project=launch`));
    t.ok(
      again.every((s) => s === 200),
      'the pool still serves afterwards',
    );
    t.same(reportsOf(svc.stderr()), [], 'no hang report');
  });
}
