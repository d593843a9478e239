/**
 * npm run bench:stories   (builds first: measures the compiled package)
 *
 * Per-call cost of the debugging-story features, as CPU time per call (process.cpuUsage: steadier
 * than wall time on a shared machine), rounds interleaved, median and spread (min–max of the
 * rounds) reported:
 * 1. an operation (createHangDetector, immediately-resolving async fn) without and with
 *    `steps: true` — the AsyncLocalStorage context an operation enters to record steps;
 * 2. `step(name, fn)` with a sync fn inside a step-recording operation, against calling fn;
 *    and outside any operation;
 * 3. a generic-pool acquire + release on a watched pool (with and without acquire stacks)
 *    against an unwatched one;
 * 4. `fs.existsSync` (a cheap sync call) with `traceSyncIo` on, against the same call untraced.
 */
import { createPool } from 'generic-pool';
import { existsSync } from 'node:fs';
import { createHangDetector, step, traceSyncIo, watchPool } from 'hangwatch';
import { fmt, median } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const N = Number(process.env.BENCH_CALLS ?? 200_000);

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

type Case = { name: string; calls: number; run: (n: number) => Promise<void> | void };

async function measure(cases: Case[]): Promise<Map<string, number[]>> {
  for (const c of cases) await c.run(Math.min(c.calls, 20_000)); // warm up
  const out = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...cases].reverse() : cases;
    for (const c of order) {
      const t0 = cpuNs();
      await c.run(c.calls);
      out.get(c.name)!.push((cpuNs() - t0) / c.calls);
    }
  }
  return out;
}

function print(title: string, results: Map<string, number[]>, baseline: string): void {
  console.log(`\n${title}`);
  const base = median(results.get(baseline)!);
  for (const [name, xs] of results) {
    const m = median(xs);
    const extra = name === baseline ? '' : `   +${fmt(m - base)} ns over "${baseline}"`;
    console.log(
      `  ${name.padEnd(44)} ${fmt(m).padStart(8)} ns CPU/call  (rounds ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})${extra}`,
    );
  }
}

const work = async (): Promise<number> => 1;
const plain = createHangDetector({ timeoutMs: 30_000 });
const withSteps = createHangDetector({ timeoutMs: 30_000, steps: true });
const sync = (): number => 1;

async function operations(): Promise<void> {
  const results = await measure([
    {
      name: 'operation (no steps)',
      calls: N,
      run: async (n) => {
        for (let i = 0; i < n; i++) await plain(work);
      },
    },
    {
      name: 'operation, steps: true',
      calls: N,
      run: async (n) => {
        for (let i = 0; i < n; i++) await withSteps(work);
      },
    },
  ]);
  print(`1. an operation, ${N.toLocaleString()} calls × ${ROUNDS} rounds`, results, 'operation (no steps)');
}

async function steps(): Promise<void> {
  const STEPS = 100;
  const loop =
    (f: () => number) =>
    async (n: number): Promise<void> => {
      // n/STEPS operations of STEPS steps each: an operation keeps at most 100 steps, as in real use.
      for (let i = 0; i < n / STEPS; i++) {
        await withSteps(async () => {
          for (let k = 0; k < STEPS; k++) f();
        });
      }
    };
  const results = await measure([
    { name: 'fn() inside an operation', calls: N, run: loop(sync) },
    { name: 'step(name, fn) inside an operation', calls: N, run: loop(() => step('parse', sync)) },
  ]);
  print(
    `2. step(), ${N.toLocaleString()} calls × ${ROUNDS} rounds (operations of 100 steps)`,
    results,
    'fn() inside an operation',
  );
  const outside = await measure([
    {
      name: 'fn() outside operations',
      calls: N * 5,
      run: (n) => {
        for (let i = 0; i < n; i++) sync();
      },
    },
    {
      name: 'step(name, fn) outside operations',
      calls: N * 5,
      run: (n) => {
        for (let i = 0; i < n; i++) step('parse', sync);
      },
    },
  ]);
  print('   outside any operation', outside, 'fn() outside operations');
}

async function pools(): Promise<void> {
  const make = () => createPool({ create: async () => ({}), destroy: async () => undefined }, { max: 4 });
  const bare = make();
  const watchedPool = make();
  const noStacksPool = make();
  const watch = watchPool(watchedPool, { name: 'bench' });
  const watchNoStacks = watchPool(noStacksPool, { name: 'bench-no-stacks', acquireStacks: false });
  const cycle =
    (p: ReturnType<typeof make>) =>
    async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await p.release(await p.acquire());
    };
  const calls = Math.round(N / 4);
  const results = await measure([
    { name: 'acquire + release (unwatched)', calls, run: cycle(bare) },
    { name: 'acquire + release (watchPool)', calls, run: cycle(watchedPool) },
    { name: 'acquire + release (acquireStacks: false)', calls, run: cycle(noStacksPool) },
  ]);
  print(
    `3. generic-pool, ${calls.toLocaleString()} acquire/release × ${ROUNDS} rounds (outside operations)`,
    results,
    'acquire + release (unwatched)',
  );
  watch.stop();
  watchNoStacks.stop();
  for (const p of [bare, watchedPool, noStacksPool]) {
    await p.drain();
    await p.clear();
  }
}

async function syncIo(): Promise<void> {
  const calls = Math.round(N / 4);
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) existsSync('/nonexistent/hangwatch-bench');
  };
  const untraced = await measure([{ name: 'fs.existsSync, untraced', calls, run: loop }]);
  const tracer = traceSyncIo({ startupMs: 0 });
  await new Promise((r) => setTimeout(r, 5));
  const traced = await measure([{ name: 'fs.existsSync, traceSyncIo on', calls, run: loop }]);
  tracer.stop();
  const both = new Map([...untraced, ...traced]);
  print(
    `4. sync I/O tracing, ${calls.toLocaleString()} calls × ${ROUNDS} rounds (not interleaved: tracing is process-wide)`,
    both,
    'fs.existsSync, untraced',
  );
}

console.log(
  `hangwatch bench:stories — node ${process.version}; CPU time per call (median of rounds; min–max in parentheses)`,
);
await operations();
await steps();
await pools();
await syncIo();
