/**
 * `npm run bench:cpu` — overhead of CPU profiling and allocation sampling, side by side with the
 * peers, in one run: every configuration runs in its own child process, configurations are
 * interleaved round-robin (so machine noise hits all of them alike), each is repeated
 * BENCH_REPS times (default 5), and medians are compared with the baseline of the same run.
 * Three measures: wall time of the workload; on-CPU time of the main thread (Linux schedstat —
 * excludes waiting for a core held by other jobs, so it stays meaningful on a shared machine);
 * and CPU time of the whole process (includes the profiler's sampling thread).
 * BENCH_ONLY=<regexp> runs only the matching configurations (plus the baselines).
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

const cpu = (label: string, profiler: string, us: number, nodeArgs: string[] = []): Config => ({
  group: 'cpu',
  label,
  nodeArgs,
  args: ['cpu', profiler, String(us)],
});
const alloc = (label: string, profiler: string, nodeArgs: string[] = []): Config => ({
  group: 'alloc',
  label,
  nodeArgs,
  args: ['alloc', profiler, '32768'],
});

const configs: Config[] = [
  cpu('baseline (no profiler)', 'none', 1000),
  cpu('hangwatch native-free @1000us', 'hangwatch', 1000),
  cpu('v8-profiler-next @1000us', 'v8-profiler-next', 1000),
  cpu('node --cpu-prof @1000us', 'node-flag', 1000, [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    '--cpu-prof-interval=1000',
  ]),
  cpu('hangwatch native-free @100us', 'hangwatch', 100),
  cpu('v8-profiler-next @100us', 'v8-profiler-next', 100),
  cpu('node --cpu-prof @100us', 'node-flag', 100, [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    '--cpu-prof-interval=100',
  ]),
  alloc('baseline (no sampling)', 'none'),
  alloc('hangwatch allocation tracking @32KiB', 'hangwatch'),
  alloc('v8-profiler-next heap sampling @32KiB', 'v8-profiler-next'),
  alloc('node --heap-prof @32KiB', 'node-flag', [
    '--heap-prof',
    `--heap-prof-dir=${profDir}`,
    '--heap-prof-interval=32768',
  ]),
];

const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const wanted = configs.filter((c) => !only || only.test(c.label));
// every group that has a wanted configuration keeps its baseline (the first of the group)
const selected = configs.filter(
  (c) =>
    wanted.includes(c) || (configs.find((x) => x.group === c.group) === c && wanted.some((w) => w.group === c.group)),
);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Sample {
  ms: number;
  mainCpuMs?: number;
  processCpuMs: number;
  stopMs: number;
}

async function once(c: Config): Promise<Sample> {
  const { stdout } = await run(process.execPath, [...c.nodeArgs, '--import', 'tsx', workload, ...c.args], {
    cwd: root,
    maxBuffer: 1 << 20,
  });
  const line = stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as Sample;
}

const results = new Map<Config, Sample[]>(selected.map((c) => [c, []]));
// one warm-up pass (discarded) so file caches and CPU frequency settle
for (const c of selected.filter((x) => configs.find((y) => y.group === x.group) === x)) await once(c);
for (let r = 0; r < reps; r++) {
  for (const c of selected) {
    const sample = await once(c);
    (results.get(c) as Sample[]).push(sample);
    process.stderr.write(
      `  [${r + 1}/${reps}] ${c.label}: ${sample.ms.toFixed(0)} ms wall, ${sample.mainCpuMs?.toFixed(0) ?? '?'} ms main-thread CPU\n`,
    );
  }
}
rmSync(profDir, { recursive: true, force: true });

const pct = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
const spread = (xs: number[]): number => (100 * (Math.max(...xs) - Math.min(...xs))) / 2 / median(xs);
const rows: Array<Record<string, string | number | undefined>> = [];
for (const group of ['cpu', 'alloc'] as const) {
  const inGroup = selected.filter((c) => c.group === group);
  if (inGroup.length < 2) continue;
  const base = results.get(inGroup[0] as Config) as Sample[];
  const baseWall = median(base.map((x) => x.ms));
  const hasMain = base.every((x) => x.mainCpuMs !== undefined);
  const baseMain = hasMain ? median(base.map((x) => x.mainCpuMs as number)) : NaN;
  const baseProc = median(base.map((x) => x.processCpuMs));
  console.log(
    `\n${group === 'cpu' ? 'CPU profiling — CPU-bound workload' : 'Allocation sampling — allocation-heavy workload'} (median of ${reps}; baseline spread: wall ±${spread(base.map((x) => x.ms)).toFixed(1)}%${hasMain ? `, main-thread CPU ±${spread(base.map((x) => x.mainCpuMs as number)).toFixed(1)}%` : ''})`,
  );
  console.log(
    `${'configuration'.padEnd(40)}${'wall ms'.padStart(9)}${'wall'.padStart(9)}${'main CPU ms'.padStart(13)}${'main CPU'.padStart(10)}${'proc CPU'.padStart(10)}${'stop ms'.padStart(9)}`,
  );
  for (const c of inGroup) {
    const r = results.get(c) as Sample[];
    const wall = median(r.map((x) => x.ms));
    const main = hasMain ? median(r.map((x) => x.mainCpuMs as number)) : NaN;
    const proc = median(r.map((x) => x.processCpuMs));
    const row = {
      group,
      configuration: c.label,
      wallMs: Math.round(wall),
      wallSlowdown: pct(wall / baseWall),
      wallMinMax: `${Math.round(Math.min(...r.map((x) => x.ms)))}..${Math.round(Math.max(...r.map((x) => x.ms)))}`,
      mainCpuMs: hasMain ? Math.round(main) : undefined,
      mainCpuSlowdown: hasMain ? pct(main / baseMain) : undefined,
      processCpuSlowdown: pct(proc / baseProc),
      stopMs: Math.round(median(r.map((x) => x.stopMs))),
    };
    rows.push(row);
    console.log(
      `${c.label.padEnd(40)}${String(row.wallMs).padStart(9)}${row.wallSlowdown.padStart(9)}${String(row.mainCpuMs ?? '-').padStart(13)}${(row.mainCpuSlowdown ?? '-').padStart(10)}${row.processCpuSlowdown.padStart(10)}${String(row.stopMs).padStart(9)}`,
    );
  }
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', `cpu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ node: process.version, reps, rows }, null, 2));
console.log(`\nraw results: ${out}`);
