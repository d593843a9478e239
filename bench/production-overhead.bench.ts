/**
 * npm run bench:production   (builds first: measures the compiled package through its exports map)
 *
 * 1. HTTP throughput and latency of a minimal Express and Fastify app on loopback, without
 *    hangwatch, with the request middleware, and with the middleware + asyncTrace. The server runs
 *    in a child process (one per variant, same code), the load (autocannon, 10 connections) in
 *    this one; variants interleaved over ROUNDS rounds, medians reported as ratios to the baseline,
 *    with the spread of the per-round ratios (each round's variant against that round's baseline).
 * 2. Direct per-request cost of the Express middleware and of the Fastify plugin, no HTTP: real
 *    `http.IncomingMessage`/`ServerResponse` objects without a socket ('finish' and 'close' emitted
 *    by hand); the Express middleware called directly on objects given Express's prototypes, the
 *    Fastify app's router (`app.routing`) with and without the plugin; CPU ns per request over the
 *    same loop without hangwatch, interleaved.
 * 3. Cost of a Prometheus scrape (exporter.metrics()), µs.
 *
 * Part 1 also reads the server's own CPU time per request (process.cpuUsage around the measured
 * load, through a `/__cpu` route), steadier than throughput when other work shares the machine.
 * BENCH_PARTS=1 adds two variants that split the middleware's cost: a no-op middleware (what the
 * framework charges for any middleware or onRequest hook) and a no-op that sets a UUID-sized
 * response header (what the `X-Request-Id` header costs); the rest is the request id and hang
 * detection.
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_SECONDS (default 4), BENCH_MODES (comma-separated
 * subset of baseline,middleware,asyncTrace 1%,asyncTrace,no-op,no-op+header; baseline is always
 * run), BENCH_PARTS=1, BENCH_FRAMEWORKS (express,fastify), BENCH_HTTP=0 / BENCH_DIRECT=0 to skip a part.
 */
import { spawn } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import autocannon from 'autocannon';
import { fmt, median } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

type Framework = 'express' | 'fastify';
type Mode = 'baseline' | 'no-op' | 'no-op+header' | 'middleware' | 'asyncTrace' | 'asyncTrace 1%';
const PARTS: Mode[] = ['no-op', 'no-op+header'];
/** The header of variant no-op+header: the size of a generated request id. */
const SAMPLE_ID = '0b9f3c1e-4a7d-4f2b-9c51-7e2d8a6b3f10';
const ALL_MODES: Mode[] = ['baseline', ...PARTS, 'middleware', 'asyncTrace 1%', 'asyncTrace'];
const MODES: Mode[] = process.env.BENCH_MODES
  ? ALL_MODES.filter((m) => m === 'baseline' || (process.env.BENCH_MODES as string).split(',').includes(m))
  : ALL_MODES.filter((m) => process.env.BENCH_PARTS === '1' || !PARTS.includes(m));
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'express,fastify').split(',') as Framework[];

/** The server's CPU time so far, in µs (read before and after the measured load). */
function cpuMicros(): { us: number } {
  const c = process.cpuUsage();
  return { us: c.user + c.system };
}

async function serve(framework: Framework, mode: Mode): Promise<void> {
  const opts = { timeoutMs: 30_000, asyncTrace: mode === 'asyncTrace' ? true : mode === 'asyncTrace 1%' ? 0.01 : false };
  const hangwatch = mode !== 'baseline' && !PARTS.includes(mode);
  let port: number;
  if (framework === 'express') {
    const { default: express } = await import('express');
    const { hangwatchExpress } = await import('hangwatch/express');
    const app = express();
    if (hangwatch) app.use(hangwatchExpress(opts));
    if (mode === 'no-op') app.use((_req, _res, next) => next());
    if (mode === 'no-op+header')
      app.use((_req, res, next) => {
        res.setHeader('x-request-id', SAMPLE_ID);
        next();
      });
    app.get('/__cpu', (_req, res) => void res.json(cpuMicros()));
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
    if (hangwatch) await app.register(hangwatchFastify, opts);
    if (mode === 'no-op') app.addHook('onRequest', (_request, _reply, done) => done());
    if (mode === 'no-op+header')
      app.addHook('onRequest', (_request, reply, done) => {
        reply.header('x-request-id', SAMPLE_ID);
        done();
      });
    app.get('/__cpu', async () => cpuMicros());
    app.get('/tasks', async () => {
      await new Promise((r) => setImmediate(r));
      return { ok: true, items: [1, 2, 3] };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  }
  process.stdout.write(`port ${port}\n`);
}

interface LoadResult {
  rps: number;
  p99: number;
  /** Server CPU µs per request. */
  cpu: number;
}

async function load(framework: Framework, mode: Mode): Promise<LoadResult> {
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
    const cpu = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${port}/__cpu`)).json()) as { us: number }).us;
    const cpu0 = await cpu();
    const r = await autocannon({ url, connections: 10, duration: SECONDS });
    const cpu1 = await cpu();
    return { rps: r.requests.average, p99: r.latency.p99, cpu: (cpu1 - cpu0) / r.requests.total };
  } finally {
    child.kill('SIGKILL');
  }
}

/** A request/response pair as Node's HTTP server makes them, without a socket. */
function requestPair(socket: Socket): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/tasks?x=1';
  return { req, res: new ServerResponse(req) };
}

/**
 * CPU ns per request of `handle` over N requests, in batches of 500 whose responses are finished
 * and closed after the batch's promises ran (as on a server, where they end in later ticks). CPU
 * time of the process rather than wall time: steadier on a machine shared with other work, and it
 * counts the garbage collector's helper threads.
 */
async function perRequest(handle: (req: IncomingMessage, res: ServerResponse) => void, N: number): Promise<number> {
  const socket = new Socket();
  let batch: ServerResponse[] = [];
  const close = (): void => {
    for (const res of batch) {
      res.emit('finish');
      res.emit('close');
    }
    batch = [];
  };
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (i % 500 === 0) {
      await new Promise((r) => setImmediate(r));
      close();
    }
    const { req, res } = requestPair(socket);
    handle(req, res);
    batch.push(res);
  }
  await new Promise((r) => setImmediate(r));
  close();
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / N;
}

interface DirectCost {
  base: number;
  /** Median over rounds of (with hangwatch − without), and the spread of that difference. */
  extra: number;
  min: number;
  max: number;
}

async function interleaved(base: () => Promise<number>, withHangwatch: () => Promise<number>, rounds: number): Promise<DirectCost> {
  const b: number[] = [];
  const d: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const x = await base();
    b.push(x);
    d.push((await withHangwatch()) - x);
  }
  return { base: median(b), extra: median(d), min: Math.min(...d), max: Math.max(...d) };
}

async function directExpress(): Promise<DirectCost> {
  const { default: express } = await import('express');
  const { hangwatchExpress } = await import('hangwatch/express');
  const mw = hangwatchExpress({ timeoutMs: 30_000 });
  const app = express();
  const next = (): void => {};
  // What Express does to every request before its middleware runs: its own prototypes (objects
  // whose shape then changes cost far more, so the mock must have them too).
  const asExpress = (req: IncomingMessage, res: ServerResponse): void => {
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
  };
  const N = 200_000;
  return interleaved(
    () => perRequest(asExpress, N),
    () =>
      perRequest((req, res) => {
        asExpress(req, res);
        mw(req, res, next);
      }, N),
    9,
  );
}

async function directFastify(): Promise<DirectCost> {
  const { default: Fastify } = await import('fastify');
  const { hangwatchFastify } = await import('hangwatch/fastify');
  const app = async (plugin: boolean): Promise<(req: IncomingMessage, res: ServerResponse) => void> => {
    const a = Fastify();
    if (plugin) await a.register(hangwatchFastify, { timeoutMs: 30_000 });
    a.get('/tasks', async () => ({ ok: true, items: [1, 2, 3] }));
    await a.ready();
    return a.routing as (req: IncomingMessage, res: ServerResponse) => void;
  };
  const base = await app(false);
  const withPlugin = await app(true);
  const N = 200_000;
  return interleaved(
    () => perRequest(base, N),
    () => perRequest(withPlugin, N),
    9,
  );
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

function spread(values: number[]): string {
  return `${fmt(Math.min(...values), 3)}–${fmt(Math.max(...values), 3)}`;
}

async function main(): Promise<void> {
  const [cmd, framework, mode] = process.argv.slice(2);
  if (cmd === 'serve') return serve(framework as Framework, mode as Mode);
  if (process.env.BENCH_HTTP !== '0') {
    for (const fw of FRAMEWORKS) {
      const results = new Map<Mode, LoadResult[]>(MODES.map((m) => [m, []]));
      for (let r = 0; r < ROUNDS; r++) for (const m of MODES) results.get(m)?.push(await load(fw, m));
      const baseRuns = results.get('baseline') ?? [];
      const base = median(baseRuns.map((x) => x.rps));
      console.log(`\n${fw}: ${ROUNDS} rounds × ${SECONDS} s, 10 connections, medians; spread = per-round ratios; server CPU µs per request, + over the baseline's in the same round`);
      console.log('variant        req/s   ratio   p99 ms   spread         CPU µs/req   +µs (spread)');
      for (const m of MODES) {
        const list = results.get(m) ?? [];
        const rps = median(list.map((x) => x.rps));
        const ratios = list.map((x, i) => x.rps / (baseRuns[i]?.rps ?? NaN));
        const extra = list.map((x, i) => x.cpu - (baseRuns[i]?.cpu ?? NaN));
        console.log(
          `${m.padEnd(13)} ${fmt(rps, 0).padStart(7)}   ${fmt(rps / base, 3)}   ${fmt(median(list.map((x) => x.p99)), 1).padStart(5)}   ${spread(ratios)}   ${fmt(median(list.map((x) => x.cpu)), 2).padStart(8)}   ${fmt(median(extra), 2)} (${fmt(Math.min(...extra), 2)}…${fmt(Math.max(...extra), 2)})`,
        );
      }
    }
  }
  if (process.env.BENCH_DIRECT !== '0') {
    const e = await directExpress();
    console.log(`\nexpress middleware, called directly (no HTTP): ${fmt(e.extra, 0)} ns per request (rounds ${fmt(e.min, 0)}–${fmt(e.max, 0)}) over the loop's own ${fmt(e.base, 0)} ns`);
    const f = await directFastify();
    console.log(`fastify plugin, through app.routing (no HTTP): ${fmt(f.extra, 0)} ns per request (rounds ${fmt(f.min, 0)}–${fmt(f.max, 0)}) over Fastify's own ${fmt(f.base, 0)} ns`);
    console.log(`prometheus exporter.metrics(): ${fmt(await scrape(), 0)} µs median`);
  }
}

await main();
