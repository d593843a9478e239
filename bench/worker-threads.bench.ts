/**
 * npm run bench:worker-threads   (builds first; the programs run the built preload)
 *
 * 1. Cost on worker threads: a pool of CPU-bound worker threads (sha256 chains) runs a fixed number
 *    of tasks, each variant in its own process: no preload (baseline), the preload with worker
 *    threads left alone (`main-only`, HANGWATCH_WORKER_THREADS=0) and the preload
 *    (`--import hangwatch/register`, which monitors each worker thread). Rounds interleaved;
 *    medians and the spread of each. CPU time of the whole process per task is the measure for
 *    small effects; wall time is printed beside it. The clock starts once every worker has run a
 *    first task (start-up, hangwatch's loading in each worker included, is not counted).
 * 2. Detection → stack in a worker: under the preload, two workers each block BENCH_BLOCKS times
 *    for 600 ms; per block event, the first sample's capture time (the watchdog's pause request to
 *    the worker paused, the time from seeing the block to having its stack), split into each
 *    worker's first block (attach to the worker, enable its debugger) and the later ones.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, median, percentile } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const TASKS = Number(process.env.BENCH_TASKS ?? 400);
const ROUNDS_PER_TASK = Number(process.env.BENCH_HASH_ROUNDS ?? 2000);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 5);
const PROGRAM = fileURLToPath(new URL('./fixtures/worker-pool.mjs', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../dist/esm/lib/register.js', import.meta.url));

interface Ran {
  stdout: string;
  stderr: string;
}

function runProgram(preload: boolean, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(preload ? ['--import', PRELOAD] : []), PROGRAM, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', HANGWATCH_REPORT_DIR: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`exit ${code}: ${stderr.slice(0, 500)}`)),
    );
  });
}

const spread = (xs: number[]): string => `${fmt(((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100)}%`;

async function cost(): Promise<void> {
  const variants = ['none', 'main-only', 'preload'] as const;
  const cpu = new Map<string, number[]>(variants.map((v) => [v, []]));
  const wall = new Map<string, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    const order = round % 2 ? [...variants].reverse() : [...variants];
    for (const v of order) {
      const r = await runProgram(
        v !== 'none',
        ['cpu', String(WORKERS), String(TASKS), String(ROUNDS_PER_TASK)],
        v === 'main-only' ? { HANGWATCH_WORKER_THREADS: '0' } : {},
      );
      const m = JSON.parse(r.stdout) as { wallMs: number; cpuMs: number };
      // Blocks the preload reported (on a loaded machine a starved worker's loop stalls too: each
      // such stall is sampled, which costs CPU).
      const blocks = (r.stderr.match(/^hangwatch: event loop blocked/gm) ?? []).length;
      if (round > 0) {
        cpu.get(v)!.push(m.cpuMs / TASKS);
        wall.get(v)!.push(TASKS / (m.wallMs / 1000));
      }
      process.stderr.write(
        `  round ${round} ${v.padEnd(9)} ${fmt(TASKS / (m.wallMs / 1000), 0)} tasks/s, ${fmt(m.cpuMs / TASKS, 2)} CPU ms/task${blocks ? `, ${blocks} blocks reported` : ''}\n`,
      );
    }
  }
  const baseCpu = median(cpu.get('none')!);
  const baseWall = median(wall.get('none')!);
  console.log(
    `\n1. CPU-bound pool, ${WORKERS} workers, ${TASKS} tasks of ${ROUNDS_PER_TASK} sha256, ${ROUNDS} rounds (medians; spread = (max-min)/median)`,
  );
  console.log('variant    CPU ms/task   vs none   spread    tasks/s   vs none   spread');
  for (const v of variants) {
    const c = median(cpu.get(v)!);
    const w = median(wall.get(v)!);
    console.log(
      `${v.padEnd(10)} ${fmt(c, 3).padStart(11)} ${`${fmt((c / baseCpu - 1) * 100)}%`.padStart(9)} ${spread(cpu.get(v)!).padStart(8)} ${fmt(w, 0).padStart(10)} ${`${fmt((w / baseWall - 1) * 100)}%`.padStart(9)} ${spread(wall.get(v)!).padStart(8)}`,
    );
  }
}

async function latency(): Promise<void> {
  const first: number[] = [];
  const later: number[] = [];
  let missing = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const r = await runProgram(true, ['blocks', String(BLOCKS), '600'], {
      HANGWATCH_FORMAT: 'json',
      HANGWATCH_BLOCK_MS: '100',
    });
    const seen = new Set<number>();
    for (const line of r.stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as {
        schema: string;
        threadId: number;
        durationMs: number;
        samples: { captureMs: number }[];
      };
      if (e.schema !== 'hangwatch.block-event' || e.threadId === 0 || e.durationMs < 500) continue;
      const isFirst = !seen.has(e.threadId);
      seen.add(e.threadId);
      const ms = e.samples[0]?.captureMs;
      if (ms === undefined) missing++;
      else (isFirst ? first : later).push(ms);
    }
  }
  console.log(
    `\n2. Detection → stack in a worker thread (first sample's capture time), ${ROUNDS} runs x 2 workers x ${BLOCKS} blocks of 600 ms`,
  );
  const row = (label: string, xs: number[]): void =>
    console.log(
      `${label.padEnd(34)} n=${String(xs.length).padStart(3)}  median ${fmt(median(xs), 0)} ms  p90 ${fmt(percentile(xs, 90), 0)} ms  max ${fmt(Math.max(...xs), 0)} ms`,
    );
  if (first.length) row('first block of a worker (attach)', first);
  if (later.length) row('later blocks', later);
  console.log(`blocks of 600 ms without a sample: ${missing}`);
}

await cost();
await latency();
