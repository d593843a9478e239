/**
 * npm run bench:production   (builds first: measures the compiled package through its exports map)
 *
 * 1. HTTP throughput and latency of an Express and a Fastify app on loopback, without hangwatch,
 *    with the request middleware, with the middleware + asyncTrace at 1 % and at 100 % of
 *    requests, and with the preload's always-on set (`hangwatch/register`: block monitor and
 *    stuck-loop watchdog, plus the middleware without tracing). Two routes: `hello` (one async
 *    hop, a 3-item JSON) and `realistic` (a pg-style pool acquire/release, a query and a cache
 *    read that each resolve on a later turn of the loop, a few awaits, a ~20-item JSON). The server runs
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
 * After each variant's load the server also measures itself idle (BENCH_IDLE_SECONDS, default 3)
 * CPU time and wake-ups (voluntary context switches) per second of its main thread and of the
 * watchdog worker's thread, from /proc/self/task/<tid>/schedstat and /status (Linux; the
 * watchdog's thread is the one that appeared when hangwatch started). The load's own CPU per
 * request is split the same way (main vs watchdog thread).
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_SECONDS (default 4), BENCH_MODES (comma-separated
 * subset of baseline,middleware,asyncTrace 1%,asyncTrace,preload,no-op,no-op+header; baseline is
 * always run), BENCH_PARTS=1, BENCH_FRAMEWORKS (express,fastify), BENCH_ROUTES (hello,realistic),
 * BENCH_HTTP=0 / BENCH_DIRECT=0 to skip a part.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import autocannon from 'autocannon';
import { fmt, median } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

type Framework = 'express' | 'fastify';
type Mode = 'baseline' | 'no-op' | 'no-op+header' | 'middleware' | 'asyncTrace' | 'asyncTrace 1%' | 'preload';
type Route = 'hello' | 'realistic';
const PARTS: Mode[] = ['no-op', 'no-op+header'];
/** The header of variant no-op+header: the size of a generated request id. */
const SAMPLE_ID = '0b9f3c1e-4a7d-4f2b-9c51-7e2d8a6b3f10';
const ALL_MODES: Mode[] = ['baseline', ...PARTS, 'middleware', 'asyncTrace 1%', 'asyncTrace', 'preload'];
const MODES: Mode[] = process.env.BENCH_MODES
  ? ALL_MODES.filter((m) => m === 'baseline' || (process.env.BENCH_MODES as string).split(',').includes(m))
  : ALL_MODES.filter((m) => process.env.BENCH_PARTS === '1' || !PARTS.includes(m));
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'express,fastify').split(',') as Framework[];
const ROUTES = (process.env.BENCH_ROUTES ?? 'hello,realistic').split(',') as Route[];
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 3);

/** One thread's CPU time (ns, schedstat) and voluntary context switches (its wake-ups from sleep). */
interface ThreadUse {
  cpuNs: number;
  wakeups: number;
}

function threadUse(tid: string): ThreadUse {
  try {
    const cpuNs = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'));
    return { cpuNs, wakeups: Number(m?.[1] ?? NaN) };
  } catch {
    return { cpuNs: NaN, wakeups: NaN };
  }
}

function threadIds(): string[] {
  try {
    return readdirSync('/proc/self/task');
  } catch {
    return [];
  }
}

/** Threads of the server: the main thread, and the watchdog worker's (found when hangwatch started). */
const threads = { main: String(process.pid), watchdog: [] as string[] };

interface ServerUse {
  /** Whole-process CPU µs (all threads). */
  us: number;
  main: ThreadUse;
  watchdog: ThreadUse;
}

/** The server's CPU time so far (read before and after the measured load). */
function serverUse(): ServerUse {
  const c = process.cpuUsage();
  const dog = threads.watchdog
    .map(threadUse)
    .reduce((a, b) => ({ cpuNs: a.cpuNs + b.cpuNs, wakeups: a.wakeups + b.wakeups }), { cpuNs: 0, wakeups: 0 });
  return { us: c.user + c.system, main: threadUse(threads.main), watchdog: dog };
}

/** A pg-style pool: `acquire()` hands out one of `size` clients or queues the caller; `release()` hands it on. */
class Pool {
  private readonly free: Client[];
  private readonly waiters: Array<(c: Client) => void> = [];
  constructor(size: number) {
    this.free = Array.from({ length: size }, (_, i) => new Client(i));
  }
  acquire(): Promise<Client> {
    const c = this.free.pop();
    return c ? Promise.resolve(c) : new Promise((resolve) => this.waiters.push(resolve));
  }
  release(c: Client): void {
    const next = this.waiters.shift();
    if (next) next(c);
    else this.free.push(c);
  }
}

/** A client whose query answers on a later turn of the loop, as a socket read would. */
class Client {
  constructor(readonly id: number) {}
  query(_sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>> {
    return new Promise((resolve) =>
      setImmediate(() =>
        resolve(
          Array.from({ length: 20 }, (_, i) => ({
            id: i,
            owner: params[0],
            title: `task ${i}`,
            done: i % 3 === 0,
            client: this.id,
          })),
        ),
      ),
    );
  }
}

const cache = new Map<string, unknown>();
async function cachedUser(id: string): Promise<unknown> {
  await new Promise((r) => setImmediate(r)); // a cache round trip
  let u = cache.get(id);
  if (!u) cache.set(id, (u = { id, name: `user ${id}` }));
  return u;
}

const pool = new Pool(10);
/** The realistic route's work: pool acquire/release, a query, a cache read, a few awaits, ~20 items of JSON. */
async function realisticTasks(owner: string): Promise<unknown> {
  const client = await pool.acquire();
  try {
    const rows = await client.query('select * from tasks where owner = $1', [owner]);
    const user = await cachedUser(owner);
    return { user, count: rows.length, items: rows.map((r) => ({ ...r, url: `/tasks/${String(r.id)}` })) };
  } finally {
    pool.release(client);
  }
}

/** Start the preload, and note the thread its watchdog worker runs on. */
async function startPreload(): Promise<void> {
  await readFile(new URL(import.meta.url)); // the libuv thread pool starts now, not later among hangwatch's threads
  const before = new Set(threadIds());
  await import('hangwatch/register');
  for (let i = 0; i < 50 && threads.watchdog.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    threads.watchdog = threadIds().filter((t) => !before.has(t));
  }
}

async function serve(framework: Framework, mode: Mode): Promise<void> {
  if (mode === 'preload') await startPreload();
  const opts = {
    timeoutMs: 30_000,
    asyncTrace: mode === 'asyncTrace' ? true : mode === 'asyncTrace 1%' ? 0.01 : false,
  };
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
    app.get('/__cpu', (_req, res) => void res.json(serverUse()));
    app.get('/__idle', async (_req, res) => void res.json(await idleUse()));
    app.get('/hello', async (_req, res) => {
      await new Promise((r) => setImmediate(r)); // an async hop, like a cached read
      res.json({ ok: true, items: [1, 2, 3] });
    });
    app.get('/realistic', async (req, res) => {
      res.json(await realisticTasks(String(req.query.owner ?? 'u1')));
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
    app.get('/__cpu', async () => serverUse());
    app.get('/__idle', async () => idleUse());
    app.get('/hello', async () => {
      await new Promise((r) => setImmediate(r));
      return { ok: true, items: [1, 2, 3] };
    });
    app.get('/realistic', async (request) =>
      realisticTasks(String((request.query as { owner?: string }).owner ?? 'u1')),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  }
  process.stdout.write(`port ${port}\n`);
}

/** Main and watchdog threads over IDLE_SECONDS with no requests: CPU % of a core and wake-ups per second. */
async function idleUse(): Promise<IdleUse> {
  const a = serverUse();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const b = serverUse();
  const pct = (x: ThreadUse, y: ThreadUse): number => ((y.cpuNs - x.cpuNs) / (IDLE_SECONDS * 1e9)) * 100;
  const wps = (x: ThreadUse, y: ThreadUse): number => (y.wakeups - x.wakeups) / IDLE_SECONDS;
  return {
    mainPct: pct(a.main, b.main),
    watchdogPct: pct(a.watchdog, b.watchdog),
    mainWakeups: wps(a.main, b.main),
    watchdogWakeups: wps(a.watchdog, b.watchdog),
  };
}

interface IdleUse {
  mainPct: number;
  watchdogPct: number;
  mainWakeups: number;
  watchdogWakeups: number;
}

interface LoadResult {
  rps: number;
  p99: number;
  /** Server CPU µs per request (all threads). */
  cpu: number;
  /** Of which the watchdog thread's. */
  watchdogCpu: number;
  idle: IdleUse;
}

async function load(framework: Framework, route: Route, mode: Mode): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, 'serve', framework, mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      // The preload's reports (none expected) stay out of the working directory.
      env: { ...process.env, HANGWATCH_REPORT_DIR: process.env.HANGWATCH_REPORT_DIR ?? '/tmp' },
    },
  );
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
    const url = `http://127.0.0.1:${port}/${route}`;
    await autocannon({ url, connections: 10, duration: 1 }); // warm-up
    const use = async (): Promise<ServerUse> =>
      (await (await fetch(`http://127.0.0.1:${port}/__cpu`)).json()) as ServerUse;
    const u0 = await use();
    const r = await autocannon({ url, connections: 10, duration: SECONDS });
    const u1 = await use();
    const idle = (await (await fetch(`http://127.0.0.1:${port}/__idle`)).json()) as IdleUse;
    return {
      rps: r.requests.average,
      p99: r.latency.p99,
      cpu: (u1.us - u0.us) / r.requests.total,
      watchdogCpu: (u1.watchdog.cpuNs - u0.watchdog.cpuNs) / 1000 / r.requests.total,
      idle,
    };
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

async function interleaved(
  base: () => Promise<number>,
  withHangwatch: () => Promise<number>,
  rounds: number,
): Promise<DirectCost> {
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

function printHttp(fw: Framework, route: Route, results: Map<Mode, LoadResult[]>): void {
  const baseRuns = results.get('baseline') ?? [];
  const base = median(baseRuns.map((x) => x.rps));
  console.log(
    `\n${fw} /${route}: ${ROUNDS} rounds × ${SECONDS} s, 10 connections, medians; spread = per-round ratios; server CPU µs per request (all threads), + over the baseline's in the same round, % of it (spread)`,
  );
  console.log(
    'variant        req/s   ratio   p99 ms   spread        CPU µs/req  +µs (spread)          +% CPU/req (spread)   watchdog µs/req',
  );
  for (const m of MODES) {
    const list = results.get(m) ?? [];
    const rps = median(list.map((x) => x.rps));
    const ratios = list.map((x, i) => x.rps / (baseRuns[i]?.rps ?? NaN));
    const extra = list.map((x, i) => x.cpu - (baseRuns[i]?.cpu ?? NaN));
    const pct = list.map((x, i) => (100 * (x.cpu - (baseRuns[i]?.cpu ?? NaN))) / (baseRuns[i]?.cpu ?? NaN));
    console.log(
      `${m.padEnd(13)} ${fmt(rps, 0).padStart(7)}   ${fmt(rps / base, 3)}   ${fmt(median(list.map((x) => x.p99)), 1).padStart(5)}   ${spread(ratios)}   ${fmt(median(list.map((x) => x.cpu)), 2).padStart(8)}   ${fmt(median(extra), 2)} (${fmt(Math.min(...extra), 2)}…${fmt(Math.max(...extra), 2)})`.padEnd(
        92,
      ) +
        `${fmt(median(pct), 1)} % (${fmt(Math.min(...pct), 1)}…${fmt(Math.max(...pct), 1)})`.padEnd(22) +
        fmt(median(list.map((x) => x.watchdogCpu)), 3),
    );
  }
  console.log(
    'idle (no requests, per variant, medians over rounds): main thread % of a core, wake-ups/s | watchdog thread % of a core, wake-ups/s',
  );
  for (const m of MODES) {
    const idle = (results.get(m) ?? []).map((x) => x.idle);
    const med = (f: (u: IdleUse) => number): string => fmt(median(idle.map(f)), 3);
    console.log(
      `${m.padEnd(13)} main ${med((u) => u.mainPct)} %, ${med((u) => u.mainWakeups)}/s | watchdog ${med((u) => u.watchdogPct)} %, ${med((u) => u.watchdogWakeups)}/s`,
    );
  }
}

function spread(values: number[]): string {
  return `${fmt(Math.min(...values), 3)}–${fmt(Math.max(...values), 3)}`;
}

async function main(): Promise<void> {
  const [cmd, framework, mode] = process.argv.slice(2);
  if (cmd === 'serve') return serve(framework as Framework, mode as Mode);
  if (process.env.BENCH_HTTP !== '0') {
    for (const fw of FRAMEWORKS) {
      for (const route of ROUTES) {
        const results = new Map<Mode, LoadResult[]>(MODES.map((m) => [m, []]));
        for (let r = 0; r < ROUNDS; r++) for (const m of MODES) results.get(m)?.push(await load(fw, route, m));
        printHttp(fw, route, results);
      }
    }
  }
  if (process.env.BENCH_DIRECT !== '0') {
    const e = await directExpress();
    console.log(
      `\nexpress middleware, called directly (no HTTP): ${fmt(e.extra, 0)} ns per request (rounds ${fmt(e.min, 0)}–${fmt(e.max, 0)}) over the loop's own ${fmt(e.base, 0)} ns`,
    );
    const f = await directFastify();
    console.log(
      `fastify plugin, through app.routing (no HTTP): ${fmt(f.extra, 0)} ns per request (rounds ${fmt(f.min, 0)}–${fmt(f.max, 0)}) over Fastify's own ${fmt(f.base, 0)} ns`,
    );
    console.log(`prometheus exporter.metrics(): ${fmt(await scrape(), 0)} µs median`);
  }
}

await main();
