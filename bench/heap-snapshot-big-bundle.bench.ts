/**
 * npm run bench:heap-big-bundle — heap snapshot capture in a process that loaded a big CommonJS bundle
 * (generated: 11 MB, 60,000 small functions, like a bundled app or TypeScript's compiler), with
 * hangwatch's writeHeapSnapshot on both built-in backends. Each measurement is a fresh child process
 * (the first snapshot after loading is the one that used to freeze), rounds interleaved; prints the
 * median and spread of the wall time and the throughput against the goal (file size / 20 MB/s).
 *
 * `v8-floor` is V8's own writeHeapSnapshot in a process whose tables a first (untimed) snapshot already
 * built: the serialiser's cost for the same heap, which no capture path can go below.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_FUNCTIONS (60000), BENCH_BUNDLE_MB (11), BENCH_RAW=1 adds V8's own
 * writeHeapSnapshot with nothing done first (on Node 20 it takes minutes per round).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateBigBundle } from './fixtures/generate-big-bundle.js';
import { median } from './stats.js';

const run = promisify(execFile);
const root = process.cwd();
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const functions = Number(process.env.BENCH_FUNCTIONS ?? 60_000);
const bundleMb = Number(process.env.BENCH_BUNDLE_MB ?? 11);
const variants = ['inspector', 'v8', 'v8-floor', ...(process.env.BENCH_RAW === '1' ? ['raw-v8'] : [])];
const goalMbPerS = 20;

interface Result {
  variant: string;
  functions: number;
  ms: number;
  cpuMs: number;
  bytes: number;
}

async function measure(bundle: string, variant: string, dir: string): Promise<Result> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench', 'fixtures', 'snapshot-big-bundle.ts'), bundle, variant, dir],
    {
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${variant}: no result in output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as Result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-bench-bundle-'));
  try {
    const bundle = join(dir, 'bundle.cjs');
    const source = generateBigBundle({ functions, bytes: bundleMb * 1024 * 1024 });
    writeFileSync(bundle, source);
    process.stderr.write(
      `bundle: ${(source.length / 1048576).toFixed(1)} MB, ${functions} functions; Node ${process.version}\n`,
    );
    const results = new Map<string, Result[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...variants].reverse() : variants;
      for (const variant of order) {
        const r = await measure(bundle, variant, dir);
        process.stderr.write(
          `round ${round + 1} ${variant}: ${(r.ms / 1000).toFixed(2)} s, ${(r.bytes / 1048576).toFixed(1)} MB\n`,
        );
        results.get(variant)!.push(r);
      }
    }
    console.log(
      `\nheap snapshot with a ${(source.length / 1048576).toFixed(1)} MB bundle of ${functions} functions loaded, Node ${process.version}, ${rounds} rounds\n`,
    );
    console.log(
      '| variant | snapshot MB | wall s (median) | min–max s | MB/s (wall) | CPU s (median) | min–max s | MB/s (CPU) | goal: ≤ size / 20 MB/s (wall; CPU) |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    const summary: Record<string, unknown> = {};
    for (const [variant, rs] of results) {
      const mb = median(rs.map((r) => r.bytes)) / 1048576;
      const ms = median(rs.map((r) => r.ms));
      const cpu = median(rs.map((r) => r.cpuMs));
      const limitMs = (mb / goalMbPerS) * 1000;
      const rate = mb / (ms / 1000);
      const cpuRate = mb / (cpu / 1000);
      const spread = (values: number[]): string =>
        `${(Math.min(...values) / 1000).toFixed(2)}–${(Math.max(...values) / 1000).toFixed(2)}`;
      const verdict = (value: number): string => (value <= limitMs ? 'PASS' : 'FAIL');
      console.log(
        `| ${variant} | ${mb.toFixed(1)} | ${(ms / 1000).toFixed(2)} | ${spread(rs.map((r) => r.ms))} | ${rate.toFixed(1)} | ${(cpu / 1000).toFixed(2)} | ${spread(rs.map((r) => r.cpuMs))} | ${cpuRate.toFixed(1)} | ${verdict(ms)}; ${verdict(cpu)} (${(limitMs / 1000).toFixed(2)} s) |`,
      );
      summary[variant] = { mb, ms, cpuMs: cpu, rate, cpuRate, runs: rs };
    }
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, `heap-big-bundle-${process.version}.json`),
      JSON.stringify({ node: process.version, functions, bundleBytes: source.length, summary }, null, 2),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).stack ?? String(error));
  process.exit(1);
});
