/**
 * Child process of `npm run bench:cpu`: runs one deterministic workload under one profiler
 * configuration and prints the workload's wall time as JSON. Timing covers the workload only (not
 * process start, not writing the profile), so the difference to the baseline is the profiler's
 * overhead while it samples.
 *
 *   tsx bench/cpu-workload.ts <cpu|alloc> <none|hangwatch|v8-profiler-next|node-flag> [intervalUs]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startAllocationTracking, stopAllocationTracking, takeAllocationSnapshot } from '../lib/alloc/tracking.js';
import { startCpuProfile } from '../lib/cpu/session.js';

const [workload = 'cpu', profiler = 'none', intervalArg] = process.argv.slice(2);
const interval = Number(intervalArg ?? (workload === 'cpu' ? 1000 : 32768));

// ---- CPU-bound workload: recursion, numeric loops, string hashing, sorting (~2-3 s on one core) ----
function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
function numeric(n: number): number {
  let acc = 0;
  for (let i = 1; i < n; i++) acc += Math.sqrt(i) * Math.sin(i);
  return acc;
}
function sortChunk(seed: number): number {
  const a: number[] = [];
  let x = seed;
  for (let i = 0; i < 2000; i++) a.push((x = (x * 1103515245 + 12345) % 2147483648));
  a.sort((p, q) => p - q);
  return a[1000] as number;
}
function cpuWorkload(): number {
  let check = 0;
  for (let round = 0; round < 80; round++) {
    check += fib(25);
    check += numeric(600_000);
    for (let i = 0; i < 3000; i++) check += hashString(`key-${round}-${i}-${'x'.repeat(i % 50)}`);
    for (let i = 0; i < 60; i++) check += sortChunk(round * 100 + i);
  }
  return check;
}

// ---- allocation-heavy workload: objects, arrays and strings with a sliding retention window ----
function allocWorkload(): number {
  const window: unknown[] = new Array(50_000);
  let check = 0;
  for (let i = 0; i < 10_000_000; i++) {
    const o = { id: i, name: `item-${i}`, tags: [i & 7, i & 15], nested: { v: i * 2 } };
    window[i % window.length] = o;
    check += o.tags.length;
  }
  return check + window.length;
}

interface V8ProfilerNext {
  setGenerateType(t: 0 | 1): void;
  setSamplingInterval(us: number): void;
  startProfiling(name: string, rec: boolean): void;
  stopProfiling(name: string): { delete(): void };
  startSamplingHeapProfiling(interval: number, depth: number): void;
  stopSamplingHeapProfiling(): unknown;
}

/**
 * On-CPU time of the main thread in ns (Linux `schedstat`), undefined elsewhere. Unlike wall time
 * it does not include time spent waiting for a core that other jobs hold, so it is far less noisy
 * on a shared machine; it does include the profiler's signal handling on the main thread.
 */
function mainThreadCpuNs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const run = workload === 'alloc' ? allocWorkload : cpuWorkload;
  let stop: () => Promise<unknown> | unknown = () => undefined;
  if (profiler === 'hangwatch') {
    if (workload === 'cpu') {
      const session = await startCpuProfile({ samplingIntervalUs: interval });
      stop = () => session.stop().then((p) => p.stats());
    } else {
      startAllocationTracking({ samplingIntervalBytes: interval });
      stop = () => {
        const s = takeAllocationSnapshot().statistics('line');
        stopAllocationTracking();
        return s;
      };
    }
  } else if (profiler === 'v8-profiler-next') {
    const addon = createRequire(`${process.cwd()}/`)('v8-profiler-next') as V8ProfilerNext;
    if (workload === 'cpu') {
      addon.setGenerateType(1);
      addon.setSamplingInterval(interval);
      addon.startProfiling('bench', true);
      stop = () => addon.stopProfiling('bench').delete();
    } else {
      addon.startSamplingHeapProfiling(interval, 128);
      stop = () => addon.stopSamplingHeapProfiling();
    }
  }
  // 'node-flag': the child was started with --cpu-prof / --heap-prof; nothing to do here.
  const c0 = mainThreadCpuNs();
  const p0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const check = run();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(p0);
  const c1 = mainThreadCpuNs();
  const mainCpuMs = c0 !== undefined && c1 !== undefined ? (c1 - c0) / 1e6 : undefined;
  const processCpuMs = (cpu.user + cpu.system) / 1000;
  const s0 = process.hrtime.bigint();
  await stop();
  const stopMs = Number(process.hrtime.bigint() - s0) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ workload, profiler, interval, ms, mainCpuMs, processCpuMs, stopMs, check })}\n`,
  );
}

await main();
