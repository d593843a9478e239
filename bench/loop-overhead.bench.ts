/**
 * npm run bench:loop   (builds first; the servers run the built package)
 *
 * 1. Throughput of a node:http server under autocannon load on loopback, a fixed number of
 *    requests per run, each variant in its own child process (blocked-at installs process-wide
 *    async hooks): no monitor (baseline), hangwatch's monitorEventLoop, blocked-at, and a
 *    perf_hooks monitorEventLoopDelay histogram only. Rounds interleaved; medians.
 * 2. Detection → stack latency of the block monitor on 400 ms busy-loop blocks (in this process).
 * Targets: throughput loss <= 2% and >= 10x less than blocked-at's; latency <= 50 ms median.
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoop, type BlockEvent } from 'hangwatch';
import { fmt, median, percentile } from './stats.js';

const ALL_VARIANTS = ['none', 'hangwatch', 'blocked-at', 'elu-histogram'] as const;
// BENCH_VARIANTS=none,hangwatch runs a subset (the baseline is always included).
const VARIANTS = ALL_VARIANTS.filter(
  (v) => v === 'none' || !process.env.BENCH_VARIANTS || process.env.BENCH_VARIANTS.split(',').includes(v),
);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const AMOUNT = Number(process.env.BENCH_REQUESTS ?? 100_000);
const SERVER = fileURLToPath(new URL('./fixtures/loop-server.mjs', import.meta.url));

function startServer(variant: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [variant], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
  });
}

function stopServer(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('message', (m: { blocks: number }) => resolve(m.blocks));
    child.send('stop');
  });
}

/**
 * Requests per second over a fixed number of requests, timed from the start to the last response
 * (autocannon only notices the end of an `amount` run on its 1-second tick, so its own duration
 * is quantized to whole seconds).
 */
function load(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = t0;
    let responses = 0;
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/tasks?n=20`, connections: 16, pipelining: 1, amount: AMOUNT },
      (err, result) => {
        if (err) return reject(err);
        if (result.non2xx > 0 || result.errors > 0)
          return reject(new Error(`load errors: ${result.errors} errors, ${result.non2xx} non-2xx`));
        resolve(responses / ((last - t0) / 1000));
      },
    );
    instance.on('response', () => {
      responses++;
      last = performance.now();
    });
  });
}

/** Spread of the baseline's rounds, (max - min) / median: the noise floor of the loss figures. */
let baselineNoise = 0;

async function throughput(): Promise<Map<string, number>> {
  const rps = new Map<string, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    const order = round % 2 ? [...VARIANTS].reverse() : [...VARIANTS];
    for (const v of order) {
      const { child, port } = await startServer(v);
      const r = await load(port);
      const blocks = await stopServer(child);
      if (round > 0) rps.get(v)!.push(r); // round 0 warms the machine up
      process.stderr.write(
        `  round ${round} ${v.padEnd(14)} ${fmt(r, 0)} req/s${blocks ? ` (${blocks} blocks seen)` : ''}\n`,
      );
    }
  }
  const base = rps.get('none')!;
  baselineNoise = (Math.max(...base) - Math.min(...base)) / median(base);
  return new Map([...rps].map(([k, xs]) => [k, median(xs)]));
}

function busyLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // blocked on purpose
  }
}

async function latency(blocks: number): Promise<{ detectToStack: number[]; startToStack: number[] }> {
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 100, onBlock: (e) => events.push(e) });
  await monitor.ready();
  const starts: number[] = [];
  for (let i = 0; i < blocks; i++) {
    await new Promise((r) => setTimeout(r, 150));
    starts.push(Date.now());
    busyLoop(400);
  }
  await new Promise((r) => setTimeout(r, 300));
  monitor.stop();
  const detectToStack: number[] = [];
  const startToStack: number[] = [];
  events.forEach((e, i) => {
    const first = e.samples[0];
    if (!first || starts[i] === undefined) return;
    // From the worker's request to the paused stack.
    detectToStack.push(first.captureMs);
    // From the start of the blocking call to the paused stack.
    startToStack.push(Date.parse(e.startedAt) + first.offsetMs - starts[i]);
  });
  return { detectToStack, startToStack };
}

async function main(): Promise<void> {
  console.log(
    `hangwatch bench:loop — node ${process.version}, ${AMOUNT.toLocaleString()} requests × ${ROUNDS} rounds per variant (median), 16 connections\n`,
  );
  const rps = await throughput();
  const base = rps.get('none')!;
  const loss = (v: string): number => 1 - rps.get(v)! / base;
  console.log('\nvariant          req/s     throughput loss');
  for (const v of VARIANTS)
    console.log(
      `${v.padEnd(15)} ${fmt(rps.get(v)!, 0).padStart(7)}   ${v === 'none' ? '(baseline)' : `${fmt(loss(v) * 100, 2)}%`}`,
    );
  if (!rps.has('hangwatch') || !rps.has('blocked-at')) return;
  const hw = loss('hangwatch');
  console.log(`\nbaseline noise (spread of its rounds): ±${fmt((baselineNoise * 100) / 2, 2)}%`);
  console.log(
    `hangwatch loss ${fmt(hw * 100, 2)}% (target <= 2%); blocked-at loss ${fmt(loss('blocked-at') * 100, 1)}%` +
      (hw > baselineNoise / 2
        ? ` = ${fmt(loss('blocked-at') / hw)}× hangwatch's (target >= 10×)`
        : ` — hangwatch's is within noise, so the ratio is at least ${fmt(loss('blocked-at') / Math.max(baselineNoise / 2, 0.0001))}× (target >= 10×)`),
  );

  if (process.env.BENCH_VARIANTS) return;
  const lat = await latency(Number(process.env.BENCH_BLOCKS ?? 15));
  console.log(
    `\nblock monitor, ${lat.detectToStack.length} blocks of 400 ms (threshold 100 ms):` +
      `\n  detection → stack: median ${fmt(median(lat.detectToStack))} ms, p90 ${fmt(percentile(lat.detectToStack, 90))} ms (target median <= 50 ms)` +
      `\n  block start → first stack: median ${fmt(median(lat.startToStack))} ms, p90 ${fmt(percentile(lat.startToStack, 90))} ms` +
      ' (the worker sees the heartbeat stale after 3/4 to 1 threshold of blocking)',
  );
}

void main();
