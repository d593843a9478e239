/**
 * `npm run bench:doctor`: throughput cost of the zero-code preload on an HTTP server under
 * autocannon load, against the same server without it, in the same run (configurations
 * alternate, several rounds, medians). Variants:
 *   - baseline:       node server.mjs
 *   - preload:        node --import hangwatch/register server.mjs (defaults: sampler every 1 s)
 *   - preload+doctor: the same with the doctor's channel and a 200 ms sampling interval
 * Uses the built preload (dist/esm/lib/register.js) when present, else the source through tsx
 * (then the baseline loads tsx too, so that both sides pay the same startup).
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'bench/doctor-server.mjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
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

async function measure(v: Variant): Promise<number> {
  const { child, port } = await start(v);
  try {
    const url = `http://127.0.0.1:${port}/api/items`;
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up (JIT, connections)
    const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
    if (result.errors || result.non2xx) throw new Error(`${v.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
    return result.requests.average;
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

const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
process.stderr.write(`bench:doctor — ${ROUNDS} rounds × ${variants.length} variants × ${SECONDS} s, ${CONNECTIONS} connections, preload from ${useBuilt ? 'dist' : 'source (tsx)'}\n`);
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so that drift (thermal, other load) does not favour one variant.
  const order = round % 2 ? [...variants].reverse() : variants;
  for (const v of order) {
    const rps = await measure(v);
    results.get(v.name)?.push(rps);
    process.stderr.write(`  round ${round + 1}: ${v.name.padEnd(15)} ${rps.toFixed(0)} req/s\n`);
  }
}
rmSync(scratch, { recursive: true, force: true });

const base = median(results.get('baseline') ?? []);
const rows = variants.map((v) => {
  const med = median(results.get(v.name) ?? []);
  return { variant: v.name, medianReqPerSec: Math.round(med), ratioToBaseline: Number((med / base).toFixed(4)), throughputLoss: `${((1 - med / base) * 100).toFixed(1)}%`, rounds: (results.get(v.name) ?? []).map(Math.round) };
});
console.log('\nvariant          median req/s   ratio   loss    rounds');
for (const r of rows) console.log(`${r.variant.padEnd(16)} ${String(r.medianReqPerSec).padStart(12)}   ${r.ratioToBaseline.toFixed(3)}   ${r.throughputLoss.padStart(5)}   ${r.rounds.join(' ')}`);
console.log('\nclinic doctor: not installed here (no network beyond the package registries; not a dependency) — not compared.');
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/doctor-overhead.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, preloadFrom: useBuilt ? 'dist' : 'source', rows }, null, 2)}\n`);
