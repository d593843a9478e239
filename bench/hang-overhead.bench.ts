/**
 * npm run bench:hang   (builds first: benchmarks measure the compiled package users install,
 *                       not tsx-transformed sources, whose keepNames wrappers distort timings)
 *
 * 1. Per-call overhead of withHangDetection (no asyncTrace) over N immediately-resolving async
 *    calls, against a bare await, Promise.race with setTimeout, and p-timeout — same process,
 *    same run, rounds interleaved, medians.
 * 2. Time from the deadline to the report for a blocked event loop (watchdog capture).
 * Targets: overhead <= 300 ns/call and <= 1/10 of p-timeout's; deadline→report <= 50 ms median.
 */
import pTimeout from 'p-timeout';
import { createHangDetector, withHangDetection, type HangReport } from 'hangwatch';
import { fmt, median, percentile } from './stats.js';

const N = Number(process.env.BENCH_CALLS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const TIMEOUT = 30_000;

const work = async (): Promise<number> => 1;

type Variant = { name: string; run: () => Promise<unknown> };

const detector = createHangDetector({ timeoutMs: TIMEOUT });
const rejecting = createHangDetector({ timeoutMs: TIMEOUT, action: 'reject' });

const variants: Variant[] = [
  { name: 'bare await', run: () => work() },
  {
    name: 'Promise.race + setTimeout',
    run: () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), TIMEOUT);
      });
      return Promise.race([work(), timeout]).finally(() => clearTimeout(timer));
    },
  },
  { name: 'p-timeout', run: () => pTimeout(work(), { milliseconds: TIMEOUT }) },
  { name: 'withHangDetection', run: () => withHangDetection(work, { timeoutMs: TIMEOUT }) },
  { name: 'createHangDetector (options once)', run: () => detector(work) },
  { name: "withHangDetection action 'reject'", run: () => rejecting(work) },
];

async function timeVariant(v: Variant): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await v.run();
  return Number(process.hrtime.bigint() - t0) / N;
}

async function overhead(): Promise<Map<string, number>> {
  // Warm up every variant (JIT, the watchdog worker, timers).
  for (const v of variants) for (let i = 0; i < 50_000; i++) await v.run();
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) samples.get(v.name)!.push(await timeVariant(v));
  }
  return new Map([...samples].map(([k, xs]) => [k, median(xs)]));
}

function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // blocked on purpose
  }
}

/** Deadline → report latency of the runs whose report has the blocked stack, and why the others have none. */
async function blockedLatency(iterations: number): Promise<{ late: number[]; failures: string[] }> {
  const late: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < iterations; i++) {
    let report: HangReport | undefined;
    await withHangDetection(() => busyFor(400), { timeoutMs: 100, output: 'none', onHang: (r) => (report = r) });
    if (report?.mainStack) late.push(report.lateByMs);
    else failures.push(report ? `no stack (${report.stackUnavailable ?? 'no reason given'})` : 'no report');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { late, failures };
}

async function main(): Promise<void> {
  console.log(
    `hangwatch bench:hang — node ${process.version}, ${N.toLocaleString()} calls × ${ROUNDS} rounds (median)\n`,
  );
  const ns = await overhead();
  const bare = ns.get('bare await')!;
  const pt = ns.get('p-timeout')! - bare;
  console.log('variant                               ns/call   overhead ns   vs p-timeout overhead');
  for (const [name, v] of ns) {
    const over = v - bare;
    console.log(
      `${name.padEnd(36)} ${fmt(v).padStart(8)} ${fmt(over).padStart(12)}   ${name === 'bare await' ? '' : `${fmt(over / pt, 3)}×`}`,
    );
  }
  const hw = ns.get('withHangDetection')! - bare;
  console.log(
    `\nwithHangDetection overhead: ${fmt(hw)} ns/call (target <= 300) — ${fmt(pt / hw)}× less than p-timeout (target >= 10×)`,
  );

  const runs = Number(process.env.BENCH_BLOCKS ?? 15);
  const { late, failures } = await blockedLatency(runs);
  console.log(
    `\nblocked loop, deadline → report (stack captured while blocked), ${late.length} of ${runs} runs with a stack: median ${fmt(median(late))} ms, p90 ${fmt(percentile(late, 90))} ms, max ${fmt(Math.max(...late))} ms (target median <= 50 ms)`,
  );
  if (failures.length) console.log(`runs without a stack: ${failures.length} — ${[...new Set(failures)].join('; ')}`);
}

void main();
