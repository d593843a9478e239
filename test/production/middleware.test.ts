/**
 * The Express and Fastify middleware: per-route deadlines, correlation ids (read or generated),
 * the route pattern in reports, `report` leaving the app alone, `reject` answering 503 with the
 * request id, fast requests never reported, and option validation.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import t from 'tap';
import { InvalidOptionError, step, type HangReport } from '../../lib/index.js';
import { hangwatchExpress } from '../../lib/middleware/express.js';
import { hangwatchFastify } from '../../lib/middleware/fastify.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listenExpress(app: express.Express): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    );
  });
}

t.test('express: report action, per-route deadline, route pattern and request id', async (t) => {
  const reports: HangReport[] = [];
  const app = express();
  app.use(
    hangwatchExpress({
      timeoutMs: 5_000,
      routes: { 'GET /slow/:id': 150, 'POST /slow-body': 150 },
      asyncTrace: true,
      output: 'none',
      onHang: (r) => reports.push(r),
    }),
  );
  app.get('/slow/:id', async (_req, res) => {
    await sleep(600);
    res.json({ ok: true });
  });
  app.post('/slow-body', express.json(), async (req, res) => {
    await sleep(600);
    res.json(req.body);
  });
  app.get('/fast', (_req, res) => {
    res.json({ ok: true });
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());

  const slow = await fetch(`${url}/slow/42?x=1`, { headers: { 'x-request-id': 'abc-123' } });
  t.equal(slow.status, 200, 'report action: the slow request still completes normally');
  t.equal(slow.headers.get('x-request-id'), 'abc-123', "the caller's request id is echoed");
  t.equal(reports.length, 1, 'one report for the slow request');
  const r = reports[0] as HangReport;
  t.same(r.context, { method: 'GET', route: '/slow/:id', path: '/slow/42', requestId: 'abc-123' });
  t.equal(r.timeoutMs, 150, 'the per-route deadline applies');
  t.equal(r.name, 'GET /slow/42');
  t.ok(
    r.pending?.some((p) => p.type === 'Timeout'),
    'asyncTrace names the pending timer',
  );

  const fast = await fetch(`${url}/fast`, { headers: { 'x-request-id': 'bad id with spaces' } });
  t.equal(fast.status, 200);
  t.match(fast.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'an invalid id is replaced by a generated UUID');
  await sleep(300);
  t.equal(reports.length, 1, 'fast requests are not reported');

  const posted = await fetch(`${url}/slow-body`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"c":3}',
  });
  t.same(await posted.json(), { c: 3 });
  t.equal(reports.length, 2);
  t.equal(reports[1]?.context?.route, '/slow-body');
  t.ok(
    reports[1]?.pending?.some((p) => p.type === 'Timeout'),
    'asyncTrace sees the timer of a handler that ran after express.json()',
  );
});

t.test('express: reject action answers 503 with the request id', async (t) => {
  const reports: HangReport[] = [];
  const app = express();
  app.use(hangwatchExpress({ timeoutMs: 150, action: 'reject', output: 'none', onHang: (r) => reports.push(r) }));
  app.get('/stuck', () => {
    // never answers
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const res = await fetch(`${url}/stuck`);
  t.equal(res.status, 503);
  const body = (await res.json()) as { requestId: string };
  t.equal(body.requestId, res.headers.get('x-request-id'), 'the body names the request id');
  t.equal(reports.length, 1);
  t.equal(reports[0]?.context?.requestId, body.requestId, 'the report and the response share the id');
  t.equal(reports[0]?.context?.route, '/stuck');
});

t.test('fastify: route config deadline, report and reject', async (t) => {
  const reports: HangReport[] = [];
  const app = Fastify();
  await app.register(hangwatchFastify, {
    timeoutMs: 5_000,
    routes: { 'GET /r/:id': 120, 'POST /body-slow': 120 },
    output: 'none',
    onHang: (r: HangReport) => reports.push(r),
    asyncTrace: true,
  });
  app.get('/r/:id', async () => {
    await sleep(500);
    return { ok: true };
  });
  app.get('/cfg', { config: { hangwatch: { timeoutMs: 100 } } }, async () => {
    await sleep(400);
    return { ok: true };
  });
  app.get('/off', { config: { hangwatch: { timeoutMs: 0 } } }, async () => {
    await sleep(300);
    return { ok: true };
  });
  app.post('/body', async (req) => {
    await sleep(400);
    return req.body;
  });
  app.post('/body-slow', async (req) => {
    await sleep(400);
    return req.body;
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());

  const a = await fetch(`${url}/r/7`, { headers: { 'x-request-id': 'req-7' } });
  t.equal(a.status, 200);
  t.equal(a.headers.get('x-request-id'), 'req-7');
  t.equal(reports.length, 1);
  t.same(reports[0]?.context, { method: 'GET', route: '/r/:id', path: '/r/7', requestId: 'req-7' });
  t.equal(reports[0]?.timeoutMs, 120, 'routes map matched against the route pattern');
  t.ok(
    reports[0]?.pending?.some((p) => p.type === 'Timeout'),
    "asyncTrace sees the handler's timer",
  );

  await fetch(`${url}/cfg`);
  t.equal(reports.length, 2);
  t.equal(reports[1]?.timeoutMs, 100, 'route config.hangwatch.timeoutMs wins');

  await fetch(`${url}/off`);
  t.equal(reports.length, 2, 'timeoutMs 0 turns detection off for a route');

  const posted = await fetch(`${url}/body`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  });
  t.same(await posted.json(), { a: 1 });
  t.equal(reports.length, 2, 'POST under the default deadline: not reported');

  // A body is parsed from socket events, outside the request's async context: the plugin puts
  // the handler back into it, so the report still sees what the handler waits on.
  const slowPost = await fetch(`${url}/body-slow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"b":2}',
  });
  t.same(await slowPost.json(), { b: 2 });
  t.equal(reports.length, 3);
  t.equal(reports[2]?.context?.route, '/body-slow');
  t.ok(
    reports[2]?.pending?.some((p) => p.type === 'Timeout'),
    'asyncTrace sees the timer of a handler that ran after body parsing',
  );
});

t.test('fastify: reject action answers 503', async (t) => {
  const reports: HangReport[] = [];
  const app = Fastify();
  await app.register(hangwatchFastify, {
    timeoutMs: 120,
    action: 'reject',
    output: 'none',
    onHang: (r: HangReport) => reports.push(r),
  });
  app.get('/stuck', () => new Promise(() => {}));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    app.server.closeAllConnections();
    await app.close();
  });
  const res = await fetch(`${url}/stuck`, { headers: { 'x-request-id': 'stuck-1' } });
  t.equal(res.status, 503);
  t.same(((await res.json()) as { requestId: string }).requestId, 'stuck-1');
  t.equal(reports[0]?.context?.route, '/stuck');
});

t.test('options are validated when the middleware is made', async (t) => {
  t.throws(() => hangwatchExpress({ timeoutMs: -1 }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ action: 'exit' as 'reject' }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ routes: { 'not a route': 5 } }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ routes: { '/x': -5 } }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ requestIdHeader: 'bad header' }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ output: 42 as unknown as 'none' }), InvalidOptionError);
  const app = Fastify();
  await t.rejects(async () => {
    await app.register(hangwatchFastify, { timeoutMs: 'soon' as unknown as number });
  }, InvalidOptionError);
});

t.test('asyncTrace as a sampling rate', async (t) => {
  t.throws(() => hangwatchExpress({ asyncTrace: 1.5 }), InvalidOptionError);
  t.throws(() => hangwatchExpress({ asyncTrace: -0.1 }), InvalidOptionError);
  const reports: HangReport[] = [];
  const app = express();
  app.use(hangwatchExpress({ timeoutMs: 50, asyncTrace: 0.5, output: 'none', onHang: (r) => reports.push(r) }));
  app.get('/slow', async (_req, res) => {
    await sleep(150);
    res.end('ok');
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());
  await Promise.all(Array.from({ length: 40 }, () => fetch(`${url}/slow`).then((r) => r.text())));
  t.equal(reports.length, 40);
  const traced = reports.filter((r) => r.pending !== undefined).length;
  t.ok(traced > 0 && traced < 40, `about half the requests are traced (${traced} of 40)`);
  t.ok(
    reports.filter((r) => r.pending === undefined && r.kind === 'pending').every((r) => typeof r.hint === 'string'),
    'untraced reports carry the hint',
  );
});

t.test('context values may be functions, read when the report is made', async (t) => {
  const { withHangDetection } = await import('../../lib/index.js');
  let late = 'before';
  let report: HangReport | undefined;
  const p = withHangDetection(() => sleep(120), {
    timeoutMs: 40,
    output: 'none',
    context: {
      fixed: 1,
      late: () => late,
      broken: () => {
        throw new Error('nope');
      },
    },
    onHang: (r) => (report = r),
  });
  late = 'after';
  await p;
  t.same(report?.context, { fixed: 1, late: 'after', broken: '(error: nope)' });
  t.throws(() => withHangDetection(() => 1, { context: { bad: {} as unknown as string } }), InvalidOptionError);
});

t.test('asyncTrace switched at run time', async (t) => {
  const reports: HangReport[] = [];
  const mw = hangwatchExpress({ timeoutMs: 50, output: 'none', onHang: (r) => reports.push(r) });
  const app = express();
  app.use(mw);
  app.get('/slow', async (_req, res) => {
    await sleep(150);
    res.end('ok');
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());
  await (await fetch(`${url}/slow`)).text();
  mw.setAsyncTraceRate(true);
  await (await fetch(`${url}/slow`)).text();
  t.throws(() => mw.setAsyncTraceRate(2), InvalidOptionError);
  t.equal(reports[0]?.pending, undefined, 'untraced before');
  t.ok(
    reports[1]?.pending?.some((p) => p.type === 'Timeout'),
    'traced after setAsyncTraceRate(true)',
  );

  const freports: HangReport[] = [];
  const fapp = Fastify();
  await fapp.register(hangwatchFastify, { timeoutMs: 50, output: 'none', onHang: (r: HangReport) => freports.push(r) });
  fapp.get('/slow', async () => {
    await sleep(150);
    return 'ok';
  });
  const furl = await fapp.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fapp.close());
  fapp.hangwatch.setAsyncTraceRate(1);
  await (await fetch(`${furl}/slow`)).text();
  t.ok(
    freports[0]?.pending?.some((p) => p.type === 'Timeout'),
    'fastify: app.hangwatch.setAsyncTraceRate',
  );
});

t.test('100,000 requests through each middleware leave heap, handles and listeners flat', async (t) => {
  const { fixture, runFixture } = await import('../helpers.js');
  const res = await runFixture(fixture('middleware-leak-check.ts'), { nodeArgs: ['--expose-gc'], timeoutMs: 150_000 });
  t.equal(res.code, 0, res.stderr);
  const { before, after, closeListeners } = JSON.parse(res.stdout) as {
    before: { heap: number; handles: number; socketListeners: number };
    after: { heap: number; handles: number; socketListeners: number };
    closeListeners: number[];
  };
  // No handle left behind (one that was still opening when `before` was read may have closed since).
  t.ok(after.handles <= before.handles, `active handles ${before.handles} → ${after.handles}`);
  t.equal(after.socketListeners, before.socketListeners, 'no listener left on the socket');
  t.same(closeListeners, [1], 'one close listener per response');
  const growth = after.heap - before.heap;
  t.ok(growth < 2 * 1024 * 1024, `heap growth ${(growth / 1024).toFixed(0)} KiB after 200,000 requests (< 2 MiB)`);
});

t.test('a request the client abandons ends with its response: no report', async (t) => {
  const reports: HangReport[] = [];
  const app = express();
  app.use(hangwatchExpress({ timeoutMs: 200, output: 'none', onHang: (r) => reports.push(r) }));
  let closed!: () => void;
  const responseClosed = new Promise<void>((r) => (closed = r));
  app.get('/never', (_req, res) => {
    res.on('close', () => closed()); // never answers; the client gives up
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());
  const controller = new AbortController();
  const pending = fetch(`${url}/never`, { signal: controller.signal }).catch(() => 'aborted');
  await sleep(50);
  controller.abort();
  t.equal(await pending, 'aborted');
  await responseClosed;
  await sleep(400);
  t.equal(reports.length, 0, 'the abandoned request is not reported at its deadline');
});

t.test('mounted twice (two middleware instances): both operations end with the response', async (t) => {
  const reports: HangReport[] = [];
  const app = express();
  app.use(hangwatchExpress({ timeoutMs: 150, output: 'none', onHang: (r) => reports.push(r) }));
  app.use(
    hangwatchExpress({ timeoutMs: 150, requestIdHeader: 'x-trace', output: 'none', onHang: (r) => reports.push(r) }),
  );
  app.get('/quick', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/slow', async (_req, res) => {
    await sleep(300);
    res.json({ ok: true });
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());
  const quick = await fetch(`${url}/quick`);
  t.equal(quick.status, 200);
  t.ok(quick.headers.get('x-request-id') && quick.headers.get('x-trace'), 'both set their header');
  await sleep(300);
  t.equal(reports.length, 0, 'neither reports a request that finished');
  await (await fetch(`${url}/slow`)).text();
  t.equal(reports.length, 2, 'both report a slow one');
});

t.test(
  'fastify: extraContext, timeoutFor with the route pattern, and a throwing onHang do not break requests',
  async (t) => {
    const reports: HangReport[] = [];
    const seen: Array<{ method: string; path: string; route?: string | undefined }> = [];
    const app = Fastify();
    await app.register(hangwatchFastify, {
      timeoutMs: 5_000,
      timeoutFor: (r) => {
        seen.push(r);
        return r.route === '/slow/:id' ? 80 : undefined;
      },
      extraContext: () => ({ tenant: 'acme', method: 'overridden?', bad: {} as unknown as string }),
      output: 'none',
      onHang: (r: HangReport) => {
        reports.push(r);
        throw new Error('user bug');
      },
    });
    app.get('/slow/:id', async () => {
      await sleep(250);
      return { ok: true };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    t.teardown(() => app.close());
    const res = await fetch(`${url}/slow/3?q=1`, { headers: { 'x-request-id': 'r-3' } });
    t.equal(res.status, 200);
    t.same(seen[0], { method: 'GET', path: '/slow/3', route: '/slow/:id' });
    t.equal(reports.length, 1);
    t.equal(reports[0]?.name, 'GET /slow/:id');
    t.same(reports[0]?.context, {
      method: 'GET',
      route: '/slow/:id',
      path: '/slow/3',
      requestId: 'r-3',
      tenant: 'acme',
    });
  },
);

t.test('steps: true — a stuck request names its step (express and fastify)', async (t) => {
  const reports: HangReport[] = [];
  const app = express();
  app.use(hangwatchExpress({ timeoutMs: 150, steps: true, output: 'none', onHang: (r) => reports.push(r) }));
  app.get('/invoices', async (_req, res) => {
    await step('authenticate', () => sleep(5));
    await step('fetch invoices', () => sleep(500));
    res.json({ ok: true });
  });
  const { url, server } = await listenExpress(app);
  t.teardown(() => server.close());
  const fastify = Fastify();
  await fastify.register(hangwatchFastify, {
    timeoutMs: 150,
    steps: true,
    output: 'none',
    onHang: (r: HangReport) => reports.push(r),
  });
  fastify.get('/invoices', async () => {
    await step('load profile', () => sleep(5));
    await step('render', () => sleep(500));
    return { ok: true };
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fastify.close());
  const fastifyUrl = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
  await Promise.all([fetch(`${url}/invoices`), fetch(`${fastifyUrl}/invoices`)]);
  const byName = (n: string): HangReport | undefined => reports.find((r) => r.steps?.running[0]?.name === n);
  t.same(
    byName('fetch invoices')?.steps?.finished.map((s) => s.name),
    ['authenticate'],
  );
  t.same(
    byName('render')?.steps?.finished.map((s) => s.name),
    ['load profile'],
  );
  t.equal(reports.length, 2, 'one report per stuck request, its own steps only');
});
