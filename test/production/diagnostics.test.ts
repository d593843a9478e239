/**
 * The diagnostics handler's security model and captures: disabled without a token, bearer token
 * checks, loopback-only by default (a real non-loopback connection when the machine has an
 * interface for it), one capture at a time, limits, and what the captures return.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { InvalidOptionError, withHangDetection, type HangReport } from '../../lib/index.js';
import {
  createDiagnosticsHandler,
  isLoopbackAddress,
  type DiagnosticsHandler,
} from '../../lib/diagnostics/diagnostics-handler.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

async function serve(handler: DiagnosticsHandler, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

t.test('disabled unless a token is configured', async (t) => {
  const h = createDiagnosticsHandler();
  t.equal(h.enabled, false);
  const { server, port } = await serve(h);
  t.teardown(() => server.close());
  const r = await fetch(`http://127.0.0.1:${port}/loop`, { headers: auth });
  t.equal(r.status, 404);
  let nextCalled = false;
  h({} as IncomingMessage, {} as ServerResponse, () => (nextCalled = true));
  t.ok(nextCalled, 'as middleware, a disabled handler passes the request on');
  t.throws(
    () => createDiagnosticsHandler({ token: 'short' }),
    InvalidOptionError,
    'tokens under 16 characters are refused',
  );
  t.equal(
    createDiagnosticsHandler({ token: '' }).enabled,
    false,
    'an empty token (a set but empty env var) leaves it disabled',
  );
  t.throws(() => createDiagnosticsHandler({ token: 42 as unknown as string }), InvalidOptionError);
  t.throws(() => createDiagnosticsHandler({ token: TOKEN, endpoints: ['everything' as 'loop'] }), InvalidOptionError);
});

t.test('token checks', async (t) => {
  process.env.HANGWATCH_TEST_SECRET = 'env-secret-value-xyz';
  const h = createDiagnosticsHandler({ token: TOKEN });
  t.teardown(() => h.close());
  const { server, port } = await serve(h);
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${port}`;
  const missing = await fetch(`${base}/loop`);
  t.equal(missing.status, 401, 'no token');
  t.match(missing.headers.get('www-authenticate'), /^Bearer/);
  t.equal((await fetch(`${base}/loop`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'wrong token');
  t.equal(
    (await fetch(`${base}/loop`, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}X` } })).status,
    401,
    'same length, one character off',
  );
  t.equal((await fetch(`${base}/loop`, { headers: { authorization: TOKEN } })).status, 401, 'no Bearer scheme');
  t.equal((await fetch(`${base}/loop?token=${TOKEN}`)).status, 401, 'tokens in the URL are not accepted');
  const ok = await fetch(`${base}/loop`, { headers: auth });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('cache-control'), 'no-store');
  const stats = (await ok.json()) as { delayMs: { samples: number }; heap: { used: number } };
  t.ok(stats.heap.used > 0);
  t.equal((await fetch(`${base}/loop`, { method: 'POST', headers: auth })).status, 405);
  t.equal((await fetch(`${base}/nope`, { headers: auth })).status, 404);
  const index = (await (await fetch(`${base}/`, { headers: auth })).json()) as { endpoints: string[] };
  t.same(index.endpoints, ['cpu-profile', 'heap-snapshot', 'allocation-snapshot', 'loop', 'reports']);

  let report: HangReport | undefined;
  await withHangDetection(() => new Promise((r) => setTimeout(r, 80)), {
    timeoutMs: 20,
    output: 'none',
    onHang: (x) => (report = x),
  });
  h.recordHang(report as HangReport);
  h.recordBlock({ durationMs: 150 });
  const reportsText = await (await fetch(`${base}/reports`, { headers: auth })).text();
  const reports = JSON.parse(reportsText) as { hangs: HangReport[]; blocks: unknown[] };
  t.equal(reports.hangs.length, 1);
  t.equal(reports.blocks.length, 1);
  for (const body of [reportsText, JSON.stringify(stats), JSON.stringify(index)]) {
    t.notOk(body.includes(TOKEN), 'the token is never echoed');
    t.notOk(body.includes('env-secret-value-xyz'), 'environment values are never exposed');
  }
});

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

t.test('loopback only by default', async (t) => {
  t.ok(isLoopbackAddress('127.0.0.1') && isLoopbackAddress('::1') && isLoopbackAddress('::ffff:127.0.0.2'));
  t.notOk(
    isLoopbackAddress('10.0.0.1') ||
      isLoopbackAddress('::ffff:192.168.1.1') ||
      isLoopbackAddress('1270.0.0.1') ||
      isLoopbackAddress(undefined),
  );
  const address = nonLoopbackAddress();
  const strict = createDiagnosticsHandler({ token: TOKEN, endpoints: ['reports'] });
  const open = createDiagnosticsHandler({ token: TOKEN, endpoints: ['reports'], allowRemote: true });
  if (address) {
    for (const [h, expected] of [
      [strict, 403],
      [open, 200],
    ] as const) {
      const { server, port } = await serve(h, address);
      const r = await fetch(`http://${address}:${port}/reports`, { headers: auth });
      t.equal(r.status, expected, `a caller from ${address} gets ${expected}${h === open ? ' with allowRemote' : ''}`);
      server.close();
    }
  } else {
    t.comment('no non-loopback interface: checking with a request object whose socket is remote');
  }
  // The address check reads the socket, never X-Forwarded-For.
  let status = 0;
  const fakeRes = {
    headersSent: false,
    writeHead: (s: number) => (status = s),
    end: () => undefined,
  } as unknown as ServerResponse;
  strict(
    {
      socket: { remoteAddress: '203.0.113.9' },
      headers: { ...auth, 'x-forwarded-for': '127.0.0.1' },
      method: 'GET',
      url: '/reports',
    } as unknown as IncomingMessage,
    fakeRes,
  );
  t.equal(status, 403, 'a remote socket is refused even with X-Forwarded-For: 127.0.0.1');
});

t.test('captures: one at a time, limits, formats', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-diag-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const h = createDiagnosticsHandler({ token: TOKEN, dir, maxDurationSeconds: 5 });
  t.teardown(() => h.close());
  const { server, port } = await serve(h);
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${port}`;

  const first = fetch(`${base}/cpu-profile?seconds=1`, { headers: auth });
  await new Promise((r) => setTimeout(r, 100));
  const second = await fetch(`${base}/cpu-profile?seconds=1`, { headers: auth });
  t.equal(second.status, 409, 'a second capture while one runs: 409');
  t.equal((await fetch(`${base}/heap-snapshot`, { headers: auth })).status, 409, 'any capture kind');
  t.equal((await fetch(`${base}/loop`, { headers: auth })).status, 200, 'stats are served during a capture');
  const r1 = await first;
  t.equal(r1.status, 200);
  const profile = (await r1.json()) as { nodes: unknown[]; startTime: number; endTime: number };
  t.ok(profile.nodes.length > 0, 'a .cpuprofile');
  t.ok(profile.endTime - profile.startTime >= 0.9e6, 'of about the requested length');

  t.equal(
    (await fetch(`${base}/cpu-profile?seconds=60`, { headers: auth })).status,
    400,
    'over maxDurationSeconds: 400',
  );
  t.equal((await fetch(`${base}/cpu-profile?seconds=abc`, { headers: auth })).status, 400);
  t.equal((await fetch(`${base}/cpu-profile?seconds=0.2&format=svg`, { headers: auth })).status, 400);

  const pprof = Buffer.from(
    await (await fetch(`${base}/cpu-profile?seconds=0.2&format=pprof`, { headers: auth })).arrayBuffer(),
  );
  t.ok(gunzipSync(pprof).length > 0, 'pprof is gzip-compressed protobuf');

  const alloc = await fetch(`${base}/allocation-snapshot?seconds=0.3`, { headers: auth });
  t.equal(alloc.status, 200);
  t.ok(Array.isArray(((await alloc.json()) as { traces: unknown[] }).traces), 'an allocation snapshot');

  const heap = await fetch(`${base}/heap-snapshot`, { headers: auth });
  t.equal(heap.status, 200);
  const text = await heap.text();
  t.match(text.slice(0, 20), /^\{"snapshot"/, 'a heap snapshot');
  t.same(readdirSync(dir), [], 'the temporary snapshot file is removed');

  const tiny = createDiagnosticsHandler({ token: TOKEN, dir, maxHeapSnapshotBytes: 1000 });
  t.teardown(() => tiny.close());
  const s2 = await serve(tiny);
  t.teardown(() => s2.server.close());
  t.equal(
    (await fetch(`http://127.0.0.1:${s2.port}/heap-snapshot`, { headers: auth })).status,
    413,
    'over the size limit: 413',
  );
  t.same(readdirSync(dir), []);
});

t.test('mounted in Express and Fastify as the docs show', async (t) => {
  const { default: express } = await import('express');
  const { default: Fastify } = await import('fastify');
  const h = createDiagnosticsHandler({ token: TOKEN, endpoints: ['loop', 'reports'] });
  t.teardown(() => h.close());
  const app = express();
  app.use('/debug/hangwatch', h);
  app.get('/other', (_req, res) => void res.send('other'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.equal((await fetch(`${base}/debug/hangwatch/loop`, { headers: auth })).status, 200, 'express: mounted path');
  t.equal((await fetch(`${base}/debug/hangwatch/loop`)).status, 401);
  t.equal(await (await fetch(`${base}/other`)).text(), 'other', 'other routes untouched');

  const fapp = Fastify();
  fapp.all('/debug/hangwatch/*', (req, reply) => {
    reply.hijack();
    h(req.raw, reply.raw);
  });
  const furl = await fapp.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fapp.close());
  const r = await fetch(`${furl}/debug/hangwatch/reports`, { headers: auth });
  t.equal(r.status, 200, 'fastify: hijacked reply');
  t.same(await r.json(), { hangs: [], blocks: [] });
  t.equal((await fetch(`${furl}/debug/hangwatch/reports`)).status, 401);
});
