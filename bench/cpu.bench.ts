/**
 * `npm run bench:cpu` — overhead of CPU profiling and allocation sampling, side by side with the
 * peers, in one run: every configuration runs in its own child process, configurations are
 * interleaved round-robin (so machine noise hits all of them alike), each is repeated
 * BENCH_REPS times (default 5), and medians are compared with the baseline of the same run.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const workload = fileURLToPath(new URL('./cpu-workload.ts', import.meta.url));
const reps = Number(process.env.BENCH_REPS ?? 5);
const profDir = mkdtempSync(join(tmpdir(), 'hangwatch-bench-cpu-'));

interface Config {
  group: 'cpu' | 'alloc';
  label: string;
  nodeArgs: string[];
  args: string[];
}

const cpu = (label: string, profiler: string, us: number, nodeArgs: string[] = []): Config => ({ group: 'cpu', label, nodeArgs, args: ['cpu', profiler, String(us)] });
const alloc = (label: string, profiler: string, nodeArgs: string[] = []): Config => ({ group: 'alloc', label, nodeArgs, args: ['alloc', profiler, '32768'] });

const configs: Config[] = [
  cpu('baseline (no profiler)', 'none', 1000),
  cpu('hangwatch native-free @1000us', 'hangwatch', 1000),
  cpu('v8-profiler-next @1000us', 'v8-profiler-next', 1000),
  cpu('node --cpu-prof @1000us', 'node-flag', 1000, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=1000']),
  cpu('hangwatch native-free @100us', 'hangwatch', 100),
  cpu('v8-profiler-next @100us', 'v8-profiler-next', 100),
  cpu('node --cpu-prof @100us', 'node-flag', 100, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=100']),
  alloc('baseline (no sampling)', 'none'),
  alloc('hangwatch allocation tracking @32KiB', 'hangwatch'),
  alloc('v8-profiler-next heap sampling @32KiB', 'v8-profiler-next'),
  alloc('node --heap-prof @32KiB', 'node-flag', ['--heap-prof', `--heap-prof-dir=${profDir}`, '--heap-prof-interval=32768']),
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function once(c: Config): Promise<{ ms: number; stopMs: number }> {
  const { stdout } = await run(process.execPath, [...c.nodeArgs, '--import', 'tsx', workload, ...c.args], { cwd: root, maxBuffer: 1 << 20 });
  const line = stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as { ms: number; stopMs: number };
}

const results = new Map<Config, { ms: number[]; stopMs: number[] }>(configs.map((c) => [c, { ms: [], stopMs: [] }]));
// one warm-up pass (discarded) so file caches and CPU frequency settle
for (const c of [configs[0], configs[7]] as Config[]) await once(c);
for (let r = 0; r < reps; r++) {
  for (const c of configs) {
    const { ms, stopMs } = await once(c);
    const acc = results.get(c) as { ms: number[]; stopMs: number[] };
    acc.ms.push(ms);
    acc.stopMs.push(stopMs);
    process.stderr.write(`  [${r + 1}/${reps}] ${c.label}: ${ms.toFixed(0)} ms\n`);
  }
}
rmSync(profDir, { recursive: true, force: true });

const rows: Array<Record<string, string | number>> = [];
for (const group of ['cpu', 'alloc'] as const) {
  const inGroup = configs.filter((c) => c.group === group);
  const base = results.get(inGroup[0] as Config) as { ms: number[] };
  const baseMedian = median(base.ms);
  const noise = (100 * (Math.max(...base.ms) - Math.min(...base.ms))) / baseMedian;
  console.log(`\n${group === 'cpu' ? 'CPU profiling — CPU-bound workload' : 'Allocation sampling — allocation-heavy workload'} (median of ${reps}, baseline spread ±${(noise / 2).toFixed(1)}%)`);
  console.log(`${'configuration'.padEnd(40)}${'median ms'.padStart(11)}${'ratio'.padStart(9)}${'slowdown'.padStart(10)}${'min..max ms'.padStart(16)}${'stop ms'.padStart(10)}`);
  for (const c of inGroup) {
    const r = results.get(c) as { ms: number[]; stopMs: number[] };
    const m = median(r.ms);
    const ratio = m / baseMedian;
    const row = {
      group,
      configuration: c.label,
      medianMs: Math.round(m),
      ratio: Number(ratio.toFixed(3)),
      slowdownPercent: Number(((ratio - 1) * 100).toFixed(1)),
      minMs: Math.round(Math.min(...r.ms)),
      maxMs: Math.round(Math.max(...r.ms)),
      stopMs: Math.round(median(r.stopMs)),
    };
    rows.push(row);
    console.log(
      `${c.label.padEnd(40)}${String(row.medianMs).padStart(11)}${row.ratio.toFixed(3).padStart(9)}${`${row.slowdownPercent >= 0 ? '+' : ''}${row.slowdownPercent}%`.padStart(10)}${`${row.minMs}..${row.maxMs}`.padStart(16)}${String(row.stopMs).padStart(10)}`,
    );
  }
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', `cpu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ node: process.version, reps, rows }, null, 2));
console.log(`\nraw results: ${out}`);
