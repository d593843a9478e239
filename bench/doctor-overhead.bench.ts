/**
 * `npm run bench:doctor`: throughput cost of the zero-code preload on an HTTP server under
 * autocannon load, against the same server without it, in the same run (configurations
 * alternate, several rounds, medians). Variants:
 *   - baseline:       node server.mjs
 *   - preload:        node --import hangwatch/register server.mjs (defaults: sampler every 1 s)
 *   - preload+doctor: the same with the doctor's channel and a 200 ms sampling interval
 * Each round measures every variant back to back (order alternating between rounds); the loss
 * is the median over rounds of the per-round ratio to the baseline, which cancels most of the
 * drift of a shared machine. Less sensitive to a shared machine: the server's CPU time per
 * request (from /proc), whose increase is the throughput a CPU-bound server loses. And: the CPU time the preload itself uses
 * per second in an idle server (from /proc, startup excluded) — an upper bound of the share of
 * one core it takes from a busy one.
 * Uses the built preload (dist/esm/lib/register.js) when present, else the source through tsx
 * (then the baseline loads tsx too, so that both sides pay the same startup).
 * Environment: BENCH_PARTS=1 (also measure the preload's parts separately), BENCH_ROUNDS (default 7), BENCH_SECONDS (default 4), BENCH_CONNECTIONS (default 50),
 * BENCH_IDLE_SECONDS (default 10).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readProcStat } from '../native-free-fallbacks/procfs-process-usage.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'bench/doctor-server.mjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const built = join(ROOT, 'dist/esm/lib/register.js');
const useBuilt = existsSync(built);
const tsx = useBuilt ? [] : ['--import', 'tsx'];
const preload = useBuilt ? ['--import', pathToFileURL(built).href] : ['--import', pathToFileURL(join(ROOT, 'lib/register.ts')).href];
const scratch = mkdtempSync(join(tmpdir(), 'hw-bench-doctor-'));

interface Variant {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}
const quiet = { HANGWATCH_REPORT_DIR: 'off', HANGWATCH_STDERR: '0' };
const variants: Variant[] = [
  { name: 'baseline', args: [...tsx, SERVER], env: {} },
  { name: 'preload', args: [...tsx, ...preload, SERVER], env: quiet },
  { name: 'preload+doctor', args: [...tsx, ...preload, SERVER], env: { ...quiet, HANGWATCH_SAMPLE_MS: '200', HANGWATCH_CHANNEL: join(scratch, 'channel.ndjson') } },
  // BENCH_PARTS=1: the preload's parts one by one, to see where its cost comes from.
  ...(process.env.BENCH_PARTS === '1'
    ? [
        { name: 'preload, no GC monitor', args: [...tsx, ...preload, SERVER], env: { ...quiet, HANGWATCH_GC: '0' } },
        { name: 'preload, block monitor only', args: [...tsx, ...preload, SERVER], env: { ...quiet, HANGWATCH_GC: '0', HANGWATCH_HANG_MS: '0' } },
        { name: 'preload, no stacks', args: [...tsx, ...preload, SERVER], env: { ...quiet, HANGWATCH_CAPTURE_STACKS: '0' } },
      ]
    : []),
];

function start(v: Variant): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...v.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, v.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.setEncoding('utf8').once('data', (d: string) => resolve({ child, port: Number(d.trim()) }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${v.name} server exited (${code}) before listening`)));
  });
}

interface Measured {
  reqPerSec: number;
  /** Server CPU time (user + system, from /proc) per 1000 requests served. */
  cpuMsPerKiloRequest: number;
}

async function measure(v: Variant): Promise<Measured> {
  const { child, port } = await start(v);
  try {
    const url = `http://127.0.0.1:${port}/api/items`;
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up (JIT, connections)
    const before = readProcStat(child.pid as number).cpuTimeMs;
    const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
    const cpuMs = readProcStat(child.pid as number).cpuTimeMs - before;
    if (result.errors || result.non2xx) throw new Error(`${v.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
    return { reqPerSec: result.requests.average, cpuMsPerKiloRequest: (cpuMs / result.requests.total) * 1000 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** CPU ms per second of wall time used by an idle server, measured over IDLE_SECONDS after a 2 s settle. */
async function idleCpuMsPerSecond(v: Variant): Promise<number> {
  const { child } = await start(v);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const a = readProcStat(child.pid as number);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const b = readProcStat(child.pid as number);
    return ((b.cpuTimeMs - a.cpuTimeMs) / (performance.now() - t0)) * 1000;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const ratios = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const cpuPerKiloRequest = new Map<string, number[]>(variants.map((v) => [v.name, []]));
process.stderr.write(`bench:doctor — ${ROUNDS} rounds × ${variants.length} variants × ${SECONDS} s, ${CONNECTIONS} connections, preload from ${useBuilt ? 'dist' : 'source (tsx)'}\n`);
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so that drift (thermal, other load) does not favour one variant.
  const order = round % 2 ? [...variants].reverse() : variants;
  const thisRound = new Map<string, number>();
  for (const v of order) {
    const m = await measure(v);
    thisRound.set(v.name, m.reqPerSec);
    results.get(v.name)?.push(m.reqPerSec);
    cpuPerKiloRequest.get(v.name)?.push(m.cpuMsPerKiloRequest);
    process.stderr.write(`  round ${round + 1}: ${v.name.padEnd(15)} ${m.reqPerSec.toFixed(0)} req/s, ${m.cpuMsPerKiloRequest.toFixed(1)} CPU ms per 1000 requests\n`);
  }
  for (const v of variants) ratios.get(v.name)?.push((thisRound.get(v.name) ?? 0) / (thisRound.get('baseline') ?? 1));
}

process.stderr.write(`idle CPU: ${IDLE_SECONDS} s per variant\n`);
const idle = new Map<string, number>();
for (const v of variants) idle.set(v.name, await idleCpuMsPerSecond(v));
rmSync(scratch, { recursive: true, force: true });

const baseCpu = median(cpuPerKiloRequest.get('baseline') ?? []);
const rows = variants.map((v) => {
  const ratio = median(ratios.get(v.name) ?? []);
  const idleMs = idle.get(v.name) ?? 0;
  const cpu = median(cpuPerKiloRequest.get(v.name) ?? []);
  return {
    variant: v.name,
    medianReqPerSec: Math.round(median(results.get(v.name) ?? [])),
    medianRatioToBaseline: Number(ratio.toFixed(4)),
    throughputLoss: `${((1 - ratio) * 100).toFixed(1)}%`,
    roundRatios: (ratios.get(v.name) ?? []).map((r) => Number(r.toFixed(3))),
    medianCpuMsPerKiloRequest: Number(cpu.toFixed(2)),
    /** Throughput loss of a CPU-bound server implied by the extra CPU per request. */
    cpuImpliedLoss: `${((1 - baseCpu / cpu) * 100).toFixed(1)}%`,
    idleCpuMsPerSecond: Number(idleMs.toFixed(2)),
    idleCpuAboveBaselineMsPerSecond: Number((idleMs - (idle.get('baseline') ?? 0)).toFixed(2)),
  };
});
console.log('\nvariant          median req/s   median ratio   loss    CPU ms/1000 req   CPU-implied loss   idle CPU ms/s (Δ baseline)   per-round ratios');
for (const r of rows) {
  console.log(
    `${r.variant.padEnd(16)} ${String(r.medianReqPerSec).padStart(12)}   ${r.medianRatioToBaseline.toFixed(3).padStart(12)}   ${r.throughputLoss.padStart(5)}   ${r.medianCpuMsPerKiloRequest.toFixed(1).padStart(15)}   ${r.cpuImpliedLoss.padStart(16)}   ${`${r.idleCpuMsPerSecond.toFixed(2)} (${r.idleCpuAboveBaselineMsPerSecond >= 0 ? '+' : ''}${r.idleCpuAboveBaselineMsPerSecond.toFixed(2)})`.padStart(26)}   ${r.roundRatios.join(' ')}`,
  );
}
console.log('\nclinic doctor: not installed here (not a dependency; no network beyond the package registries) — not compared.');
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/doctor-overhead.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, idleSeconds: IDLE_SECONDS, preloadFrom: useBuilt ? 'dist' : 'source', rows }, null, 2)}\n`,
);
