/**
 * npm run bench:production   (builds first: measures the compiled package through its exports map)
 *
 * 1. HTTP throughput and latency of a minimal Express and Fastify app on loopback, without
 *    hangwatch, with the request middleware, and with the middleware + asyncTrace. The server runs
 *    in a child process (one per variant, same code), the load (autocannon, 10 connections) in
 *    this one; variants interleaved over ROUNDS rounds, medians reported as ratios to the baseline.
 * 2. Direct per-request cost of the Express middleware (mock request/response, no HTTP), ns.
 * 3. Cost of a Prometheus scrape (exporter.metrics()), µs.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import autocannon from 'autocannon';
import { fmt, median } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

type Framework = 'express' | 'fastify';
type Mode = 'baseline' | 'middleware' | 'asyncTrace' | 'asyncTrace 1%';

async function serve(framework: Framework, mode: Mode): Promise<void> {
  const opts = { timeoutMs: 30_000, asyncTrace: mode === 'asyncTrace' ? true : mode === 'asyncTrace 1%' ? 0.01 : false };
  let port: number;
  if (framework === 'express') {
    const { default: express } = await import('express');
    const { hangwatchExpress } = await import('hangwatch/express');
    const app = express();
    if (mode !== 'baseline') app.use(hangwatchExpress(opts));
    app.get('/tasks', async (_req, res) => {
      await new Promise((r) => setImmediate(r)); // an async hop, like a cached read
      res.json({ ok: true, items: [1, 2, 3] });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as { port: number }).port;
  } else {
    const { default: Fastify } = await import('fastify');
    const { hangwatchFastify } = await import('hangwatch/fastify');
    const app = Fastify();
    if (mode !== 'baseline') await app.register(hangwatchFastify, opts);
    app.get('/tasks', async () => {
      await new Promise((r) => setImmediate(r));
      return { ok: true, items: [1, 2, 3] };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  }
  process.stdout.write(`port ${port}\n`);
}

async function load(framework: Framework, mode: Mode): Promise<{ rps: number; p99: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'serve', framework, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  try {
    const url = `http://127.0.0.1:${port}/tasks`;
    await autocannon({ url, connections: 10, duration: 1 }); // warm-up
    const r = await autocannon({ url, connections: 10, duration: SECONDS });
    return { rps: r.requests.average, p99: r.latency.p99 };
  } finally {
    child.kill('SIGKILL');
  }
}

async function direct(): Promise<{ base: number; mw: number }> {
  const { hangwatchExpress } = await import('hangwatch/express');
  const mw = hangwatchExpress({ timeoutMs: 30_000 });
  const N = 200_000;
  // In batches, letting each batch's operations settle (as requests do), so they do not pile up.
  const run = async (withMw: boolean): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      const res = new EventEmitter() as unknown as ServerResponse & { headersSent: boolean };
      res.headersSent = false;
      (res as unknown as { setHeader: () => void }).setHeader = () => {};
      const req = { method: 'GET', url: '/tasks?x=1', headers: {} } as unknown as IncomingMessage;
      if (withMw) mw(req, res, () => {});
      res.emit('close');
    }
    return Number(process.hrtime.bigint() - t0) / N;
  };
  const base: number[] = [];
  const withMw: number[] = [];
  for (let r = 0; r < 7; r++) {
    base.push(await run(false));
    withMw.push(await run(true));
  }
  return { base: median(base), mw: median(withMw) };
}

async function scrape(): Promise<number> {
  const { Registry } = await import('prom-client');
  const { createPrometheusExporter } = await import('hangwatch/prometheus');
  const registry = new Registry();
  const exporter = createPrometheusExporter({ registry });
  await new Promise((r) => setTimeout(r, 200));
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    await exporter.metrics();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  exporter.stop();
  return median(times);
}

async function main(): Promise<void> {
  const [cmd, framework, mode] = process.argv.slice(2);
  if (cmd === 'serve') return serve(framework as Framework, mode as Mode);
  const modes: Mode[] = ['baseline', 'middleware', 'asyncTrace 1%', 'asyncTrace'];
  for (const fw of ['express', 'fastify'] as Framework[]) {
    const results = new Map<Mode, Array<{ rps: number; p99: number }>>(modes.map((m) => [m, []]));
    for (let r = 0; r < ROUNDS; r++) for (const m of modes) results.get(m)?.push(await load(fw, m));
    const base = median((results.get('baseline') ?? []).map((x) => x.rps));
    console.log(`\n${fw}: ${ROUNDS} rounds × ${SECONDS} s, 10 connections, medians`);
    console.log('variant       req/s     ratio   p99 ms');
    for (const m of modes) {
      const list = results.get(m) ?? [];
      const rps = median(list.map((x) => x.rps));
      console.log(`${m.padEnd(12)} ${fmt(rps, 0).padStart(7)}   ${fmt(rps / base, 3)}   ${fmt(median(list.map((x) => x.p99)), 1)}`);
    }
  }
  const d = await direct();
  console.log(`\nexpress middleware, direct call with mock req/res: ${fmt(d.mw - d.base, 0)} ns per request over the mock's own ${fmt(d.base, 0)} ns`);
  console.log(`prometheus exporter.metrics(): ${fmt(await scrape(), 0)} µs median`);
}

await main();
