/**
 * npm run bench:async-trace
 *
 * What `asyncTrace` costs, and what each way of building it would cost, without HTTP (CPU time
 * of the process per "request", medians of interleaved rounds, with the spread):
 *
 * 1. Hook machinery. A promise-heavy request (three awaits, a JSON string) run 20,000 at a time,
 *    untraced, while the machinery is switched on as it is while some traced operation is in
 *    flight: what every other request pays. Variants: none; async_hooks with init + promiseResolve
 *    + destroy and an AsyncLocalStorage (asyncTrace before this rework); the same without destroy;
 *    an own carrier (a symbol on `executionAsyncResource()`) instead of AsyncLocalStorage, with and
 *    without destroy; AsyncLocalStorage alone; `v8.promiseHooks` (init + settled) with
 *    AsyncLocalStorage; none after one enable/disable of async_hooks (does V8 keep a slower
 *    path afterwards?). Each variant runs in its own process.
 * 2. Creation stacks: `Error.captureStackTrace` at 30 frames of depth, by frame limit.
 * 3. hangwatch's tracer on a realistic request (pg-style pool acquire/release, a query answered on
 *    a later turn, a cache read, a ~20-item JSON), 5,000 at a time: none traced, 1 % traced, all.
 *
 * Environment: BENCH_ROUNDS (default 7), BENCH_PART (1, 2 or 3; default all).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { AsyncLocalStorage, createHook, executionAsyncResource } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { fmt, median } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

/** CPU ns per item of `run(n)`, medians over rounds (after warm-up), with min/max. */
async function cpuPer(
  n: number,
  run: (n: number) => Promise<void> | void,
): Promise<{ med: number; min: number; max: number }> {
  for (let w = 0; w < 3; w++) await run(n);
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    await run(n);
    const c = process.cpuUsage(c0);
    out.push(((c.user + c.system) * 1000) / n);
  }
  return { med: median(out), min: Math.min(...out), max: Math.max(...out) };
}

// ---- part 1: hook machinery ----

const MACHINERY = [
  'none',
  'async_hooks+destroy+ALS',
  'async_hooks+ALS',
  'own carrier',
  'own carrier+destroy',
  'ALS alone',
  'promiseHooks+ALS',
  'after one enable',
] as const;
type Machinery = (typeof MACHINERY)[number];

async function g(i: number): Promise<number> {
  await null;
  return i;
}
async function promiseRequest(i: number): Promise<string> {
  const a = await g(i);
  await new Promise((r) => r(a));
  const b = await g(a);
  return JSON.stringify({ a, b });
}
async function promiseBatch(n: number): Promise<void> {
  const ps: Promise<string>[] = [];
  for (let i = 0; i < n; i++) ps.push(promiseRequest(i));
  await Promise.all(ps);
}

async function machinery(variant: Machinery): Promise<void> {
  const noop = (): void => {};
  const als = new AsyncLocalStorage<object>();
  const SCOPE = Symbol('scope');
  let stop = noop;
  // Each variant's hook looks up the scope like asyncTrace does, finds none (the request is untraced) and returns.
  if (variant === 'async_hooks+destroy+ALS' || variant === 'async_hooks+ALS') {
    const h = createHook({
      init() {
        if (!als.getStore()) return;
      },
      promiseResolve: noop,
      ...(variant === 'async_hooks+destroy+ALS' ? { destroy: noop } : {}),
    });
    als.run({}, noop);
    h.enable();
    stop = () => {
      h.disable();
      als.disable();
    };
  } else if (variant === 'own carrier' || variant === 'own carrier+destroy') {
    const h = createHook({
      init(_id, _type, _trigger, resource) {
        const s = (executionAsyncResource() as Record<symbol, unknown>)[SCOPE];
        if (s === undefined) return;
        (resource as Record<symbol, unknown>)[SCOPE] = s;
      },
      promiseResolve: noop,
      ...(variant === 'own carrier+destroy' ? { destroy: noop } : {}),
    });
    h.enable();
    stop = () => h.disable();
  } else if (variant === 'ALS alone') {
    als.run({}, noop);
    stop = () => als.disable();
  } else if (variant === 'promiseHooks+ALS') {
    const offInit = promiseHooks.onInit(() => {
      if (!als.getStore()) return;
    });
    const offSettled = promiseHooks.onSettled(noop);
    als.run({}, noop);
    stop = () => {
      offInit();
      offSettled();
      als.disable();
    };
  } else if (variant === 'after one enable') {
    const h = createHook({ init: noop, promiseResolve: noop });
    h.enable();
    await promiseBatch(10);
    h.disable();
  }
  const r = await cpuPer(20_000, promiseBatch);
  stop();
  process.stdout.write(JSON.stringify(r));
}

// ---- part 2: creation stacks ----

function deep(n: number, f: () => number): number {
  return n === 0 ? f() : deep(n - 1, f);
}

function captureCost(limit: number): number {
  const N = 100_000;
  const run = (): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const holder: { stack?: string } = {};
      const saved = Error.stackTraceLimit;
      Error.stackTraceLimit = limit;
      Error.captureStackTrace(holder, run);
      Error.stackTraceLimit = saved;
    }
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / N;
  };
  deep(30, run);
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) out.push(deep(30, run));
  return median(out);
}

// ---- part 3: hangwatch's tracer on a realistic request ----

async function tracer(): Promise<void> {
  const { openScope, closeScope, runInScope } = await import('../lib/hang/async-trace.js');
  class Pool {
    private readonly free = Array.from({ length: 10 }, (_, i) => i);
    private readonly waiters: Array<(c: number) => void> = [];
    acquire(): Promise<number> {
      const c = this.free.pop();
      return c !== undefined ? Promise.resolve(c) : new Promise((r) => this.waiters.push(r));
    }
    release(c: number): void {
      const next = this.waiters.shift();
      if (next) next(c);
      else this.free.push(c);
    }
  }
  const pool = new Pool();
  const query = (owner: string): Promise<Array<{ id: number; owner: string }>> =>
    new Promise((r) => setImmediate(() => r(Array.from({ length: 20 }, (_, i) => ({ id: i, owner })))));
  async function work(owner: string): Promise<string> {
    const c = await pool.acquire();
    try {
      const rows = await query(owner);
      await new Promise((r) => setImmediate(r));
      return JSON.stringify({ items: rows.map((row) => ({ ...row, url: `/tasks/${row.id}` })) });
    } finally {
      pool.release(c);
    }
  }
  const batch =
    (every: number) =>
    async (n: number): Promise<void> => {
      const ps: Promise<string>[] = [];
      for (let i = 0; i < n; i++) {
        if (every > 0 && i % every === 0) {
          const scope = openScope();
          ps.push(runInScope(scope, () => work('u')).finally(() => closeScope(scope)));
        } else ps.push(work('u'));
      }
      await Promise.all(ps);
    };
  const rows: Array<[string, number]> = [
    ['none traced', 0],
    ['1 % traced', 100],
    ['all traced', 1],
  ];
  const results = new Map<string, number[]>(rows.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, every] of rows) results.get(name)?.push((await cpuPer(5_000, batch(every))).med);
  const base = results.get('none traced') ?? [];
  console.log(
    '\n3. hangwatch tracer, realistic request, 5,000 at a time: CPU ns per request (rounds), ratio of CPU to none traced',
  );
  for (const [name] of rows) {
    const list = results.get(name) ?? [];
    const ratios = list.map((x, i) => x / (base[i] ?? NaN));
    console.log(
      `${name.padEnd(14)} ${fmt(median(list), 0).padStart(8)} ns (${fmt(Math.min(...list), 0)}–${fmt(Math.max(...list), 0)})   ×${fmt(median(ratios), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`,
    );
  }
}

async function main(): Promise<void> {
  const [cmd, variant] = process.argv.slice(2);
  if (cmd === 'machinery') return machinery(variant as Machinery);
  const part = process.env.BENCH_PART;
  console.log(`Node ${process.version}; load average ${fmt(os.loadavg()[0] ?? NaN, 1)} at start`);
  if (!part || part === '1') {
    console.log(
      '\n1. hook machinery on, request untraced: CPU ns per promise-heavy request (20,000 at a time), median of rounds (min–max), ×none; variants interleaved, 3 processes each',
    );
    const per = new Map<Machinery, number[]>(MACHINERY.map((m) => [m, []]));
    const spreadOf = new Map<Machinery, string[]>(MACHINERY.map((m) => [m, []]));
    for (let round = 0; round < 3; round++) {
      for (const m of MACHINERY) {
        const out = spawnSync(
          process.execPath,
          ['--import', 'tsx', new URL(import.meta.url).pathname, 'machinery', m],
          { encoding: 'utf8' },
        );
        const r = JSON.parse(out.stdout) as { med: number; min: number; max: number };
        per.get(m)?.push(r.med);
        spreadOf.get(m)?.push(`${fmt(r.min, 0)}–${fmt(r.max, 0)}`);
      }
    }
    const base = median(per.get('none') ?? []);
    for (const m of MACHINERY) {
      const list = per.get(m) ?? [];
      console.log(
        `${m.padEnd(24)} ${fmt(median(list), 0).padStart(7)} ns  ×${fmt(median(list) / base, 2)}   processes: ${list.map((x) => fmt(x, 0)).join(', ')}`,
      );
    }
  }
  if (!part || part === '2') {
    console.log('\n2. Error.captureStackTrace at 30 frames of depth, ns per capture by frame limit');
    for (const limit of [24, 12, 8, 4, 0])
      console.log(`limit ${String(limit).padStart(2)}: ${fmt(captureCost(limit), 0)} ns`);
  }
  if (!part || part === '3') await tracer();
}

await main();
