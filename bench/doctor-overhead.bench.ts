/**
 * `npm run bench:doctor`: throughput cost of the zero-code preload and of the doctors on an HTTP
 * server under autocannon load, against the same server without them, in the same run
 * (configurations alternate, several rounds, medians). Variants:
 *   - baseline:         node server.mjs
 *   - preload:          node --import hangwatch/register server.mjs (defaults)
 *   - preload+doctor:   the same with the doctor's channel and a 200 ms sampling interval
 *   - hangwatch doctor: hangwatch doctor --no-html -- node server.mjs (the CLI, its defaults)
 *   - clinic doctor:    clinic doctor --collect-only -- node server.mjs (Clinic.js 13, its defaults)
 * Each round measures every variant back to back (order alternating between rounds); the loss
 * is the median over rounds of the per-round ratio to the baseline, which cancels most of the
 * drift of a shared machine. Less sensitive to a shared machine: the server's CPU time per
 * request (from /proc), whose increase is the throughput a CPU-bound server loses. And: the CPU time the preload itself uses
 * per second in an idle server (from /proc, startup excluded) — an upper bound of the share of
 * one core it takes from a busy one. The server prints its pid, so that under a wrapper it is
 * the server that is measured (the wrappers' own processes are not counted).
 *
 * Then the time each doctor takes to produce its diagnosis once the program stops: both run the
 * server under the same load, get SIGINT (as Ctrl-C), stop the server, analyse and write their
 * HTML report; "stop" is SIGINT → server gone, "analysis" is server gone → the doctor has exited.
 *
 * clinic is not a dependency (~700 packages): it is in bench/peers/package.json, installed into
 * bench/peers/node_modules by the first run (`npm ci`); without network it is skipped with the reason.
 *
 * Uses the built preload (dist/esm/lib/register.js) when present, else the source through tsx
 * (then the baseline loads tsx too, so that both sides pay the same startup).
 * Environment: BENCH_PARTS=1 (also measure the preload's parts separately), BENCH_ROUNDS (default 7), BENCH_SECONDS (default 4), BENCH_CONNECTIONS (default 50),
 * BENCH_IDLE_SECONDS (default 10), BENCH_ONLY (comma-separated variant names, baseline always runs),
 * BENCH_CLINIC=0 (leave clinic out), BENCH_DIAGNOSIS_ROUNDS (default 3, 0 to skip),
 * BENCH_DIAGNOSIS_SECONDS (seconds of load before the stop, default 10).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readProcStat } from '../native-free-fallbacks/procfs-process-usage.js';
import { CLINIC, CLINIC_ENV, clinicCategory, hangwatchFindings, prepareClinic } from './peers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(ROOT, 'bench/doctor-server.mjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DIAGNOSIS_ROUNDS = Number(process.env.BENCH_DIAGNOSIS_ROUNDS ?? 3);
const DIAGNOSIS_SECONDS = Number(process.env.BENCH_DIAGNOSIS_SECONDS ?? 10);

const built = join(ROOT, 'dist/esm/lib/register.js');
const useBuilt = existsSync(built);
const tsx = useBuilt ? [] : ['--import', 'tsx'];
const preload = useBuilt
  ? ['--import', pathToFileURL(built).href]
  : ['--import', pathToFileURL(join(ROOT, 'lib/register.ts')).href];
const hangwatchCli = useBuilt
  ? [join(ROOT, 'dist/esm/lib/cli/main.js')]
  : ['--import', 'tsx', join(ROOT, 'lib/cli/main.ts')];
const scratch = mkdtempSync(join(tmpdir(), 'hw-bench-doctor-'));

interface Variant {
  name: string;
  /** Arguments of `node`: the server, or a doctor that starts it. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How to end it: the doctors stop their server and exit on SIGINT (Ctrl-C). */
  stopSignal: NodeJS.Signals;
}
const quiet = { HANGWATCH_REPORT_DIR: 'off', HANGWATCH_STDERR: '0' };
const server = [...tsx, SERVER];
const clinicSkipped = prepareClinic();
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
// BENCH_PARTS=1: the preload's parts one by one, to see where its cost comes from.
const parts: Variant[] =
  process.env.BENCH_PARTS === '1'
    ? [
        {
          name: 'preload, no GC monitor',
          args: [...tsx, ...preload, SERVER],
          env: { ...quiet, HANGWATCH_GC: '0' },
          stopSignal: 'SIGTERM',
        },
        {
          name: 'preload, block monitor only',
          args: [...tsx, ...preload, SERVER],
          env: { ...quiet, HANGWATCH_GC: '0', HANGWATCH_HANG_MS: '0' },
          stopSignal: 'SIGTERM',
        },
        {
          name: 'preload, no stacks',
          args: [...tsx, ...preload, SERVER],
          env: { ...quiet, HANGWATCH_CAPTURE_STACKS: '0' },
          stopSignal: 'SIGTERM',
        },
      ]
    : [];
const clinicVariant: Variant = {
  name: 'clinic doctor',
  args: [CLINIC, 'doctor', '--collect-only', '--dest', join(scratch, 'clinic'), '--', process.execPath, ...server],
  env: CLINIC_ENV,
  stopSignal: 'SIGINT',
};
const allVariants: Variant[] = [
  { name: 'baseline', args: server, env: {}, stopSignal: 'SIGTERM' },
  { name: 'preload', args: [...tsx, ...preload, SERVER], env: quiet, stopSignal: 'SIGTERM' },
  {
    name: 'preload+doctor',
    args: [...tsx, ...preload, SERVER],
    env: { ...quiet, HANGWATCH_SAMPLE_MS: '200', HANGWATCH_CHANNEL: join(scratch, 'channel.ndjson') },
    stopSignal: 'SIGTERM',
  },
  {
    name: 'hangwatch doctor',
    args: [...hangwatchCli, 'doctor', '--quiet', '--no-html', '--', process.execPath, ...server],
    env: {},
    stopSignal: 'SIGINT',
  },
  ...(clinicSkipped ? [] : [clinicVariant]),
  ...parts,
];
const variants = allVariants.filter((v) => v.name === 'baseline' || !only || only.includes(v.name));

interface Started {
  child: ChildProcess;
  /** Resolves when the process started (the server, or the doctor wrapping it) has exited. */
  exited: Promise<void>;
  port: number;
  /** The server's own pid (under a doctor, not the child's). */
  serverPid: number;
}

function start(v: Variant): Promise<Started> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...v.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, v.args, { cwd: scratch, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let buffered = '';
    let listening = false;
    // The wrappers print lines of their own; the server's is "<port> <pid>". Keep draining the pipe after it.
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (listening) return;
      buffered += d;
      const match = /^(\d+) (\d+)$/m.exec(buffered);
      if (!match) return;
      listening = true;
      resolve({ child, exited, port: Number(match[1]), serverPid: Number(match[2]) });
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${v.name} exited (${code ?? signal}) before listening; stdout: ${buffered.slice(-300)}`)),
    );
  });
}

/** True while `pid` runs (a zombie waiting for its parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return readProcStat(pid).state !== 'Z';
  } catch {
    return false;
  }
}

async function stop(v: Variant, s: Started): Promise<void> {
  s.child.kill(v.stopSignal);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
  if ((await Promise.race([s.exited, timeout])) === 'timeout') {
    process.stderr.write(`  ${v.name}: did not exit within 60 s of ${v.stopSignal}; killed\n`);
    s.child.kill('SIGKILL');
    await s.exited;
  }
  if (alive(s.serverPid)) process.kill(s.serverPid, 'SIGKILL'); // a wrapper that left its server behind
}

interface Measured {
  reqPerSec: number;
  /** Server CPU time (user + system, from /proc) per 1000 requests served. */
  cpuMsPerKiloRequest: number;
}

async function measure(v: Variant): Promise<Measured> {
  const s = await start(v);
  try {
    const url = `http://127.0.0.1:${s.port}/api/items`;
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up (JIT, connections)
    const before = readProcStat(s.serverPid).cpuTimeMs;
    const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
    const cpuMs = readProcStat(s.serverPid).cpuTimeMs - before;
    if (result.errors || result.non2xx) throw new Error(`${v.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
    return { reqPerSec: result.requests.average, cpuMsPerKiloRequest: (cpuMs / result.requests.total) * 1000 };
  } finally {
    await stop(v, s);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const spread = (xs: number[], digits: number): string =>
  xs.length ? `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}` : '—';

/** CPU ms per second of wall time used by an idle server, measured over IDLE_SECONDS after a 2 s settle. */
async function idleCpuMsPerSecond(v: Variant): Promise<number> {
  const s = await start(v);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const a = readProcStat(s.serverPid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const b = readProcStat(s.serverPid);
    return ((b.cpuTimeMs - a.cpuTimeMs) / (performance.now() - t0)) * 1000;
  } finally {
    await stop(v, s);
  }
}

const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const ratios = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const cpuPerKiloRequest = new Map<string, number[]>(variants.map((v) => [v.name, []]));
process.stderr.write(
  `bench:doctor — ${ROUNDS} rounds × ${variants.length} variants × ${SECONDS} s, ${CONNECTIONS} connections, preload from ${useBuilt ? 'dist' : 'source (tsx)'}\n`,
);
if (clinicSkipped) process.stderr.write(`clinic doctor: skipped (${clinicSkipped})\n`);
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so that drift (thermal, other load) does not favour one variant.
  const order = round % 2 ? [...variants].reverse() : variants;
  const thisRound = new Map<string, number>();
  for (const v of order) {
    const m = await measure(v);
    thisRound.set(v.name, m.reqPerSec);
    results.get(v.name)?.push(m.reqPerSec);
    cpuPerKiloRequest.get(v.name)?.push(m.cpuMsPerKiloRequest);
    process.stderr.write(
      `  round ${round + 1}: ${v.name.padEnd(16)} ${m.reqPerSec.toFixed(0)} req/s, ${m.cpuMsPerKiloRequest.toFixed(1)} CPU ms per 1000 requests\n`,
    );
  }
  for (const v of variants) ratios.get(v.name)?.push((thisRound.get(v.name) ?? 0) / (thisRound.get('baseline') ?? 1));
}

process.stderr.write(`idle CPU: ${IDLE_SECONDS} s per variant\n`);
const idle = new Map<string, number>();
for (const v of variants) idle.set(v.name, await idleCpuMsPerSecond(v));

// Time to a diagnosis once the program stops, each doctor with its defaults, rounds alternating.
interface DiagnosisTool {
  name: string;
  variant: (out: string) => Variant;
  /** What the doctor concluded, read back from its HTML report. */
  conclusion: (html: string) => string;
}
const diagnosisTools: DiagnosisTool[] = [
  {
    name: 'hangwatch doctor',
    variant: (out) => ({
      name: 'hangwatch doctor',
      args: [
        ...hangwatchCli,
        'doctor',
        '--quiet',
        '--html',
        join(out, 'report.html'),
        '--',
        process.execPath,
        ...server,
      ],
      env: {},
      stopSignal: 'SIGINT',
    }),
    conclusion: (html) =>
      hangwatchFindings(html)
        .map((f) => f.kind)
        .join(', ') || '?',
  },
  ...(clinicSkipped
    ? []
    : [
        {
          name: 'clinic doctor',
          variant: (out: string): Variant => ({
            name: 'clinic doctor',
            args: [CLINIC, 'doctor', '--open=false', '--dest', out, '--', process.execPath, ...server],
            env: CLINIC_ENV,
            stopSignal: 'SIGINT',
          }),
          conclusion: clinicCategory,
        },
      ]),
];

interface DiagnosisTiming {
  stopMs: number;
  analysisMs: number;
  reportBytes: number;
  conclusion: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

async function timeToDiagnosis(tool: DiagnosisTool): Promise<DiagnosisTiming> {
  const out = mkdtempSync(join(scratch, 'diagnosis-'));
  const v = tool.variant(out);
  const s = await start(v);
  await autocannon({
    url: `http://127.0.0.1:${s.port}/api/items`,
    connections: CONNECTIONS,
    duration: DIAGNOSIS_SECONDS,
  });
  const t0 = performance.now();
  s.child.kill('SIGINT');
  let serverGoneAt = Number.NaN;
  const watch = (async () => {
    while (alive(s.serverPid)) await new Promise((r) => setTimeout(r, 2));
    serverGoneAt = performance.now();
  })();
  await s.exited;
  const exitedAt = performance.now();
  await watch;
  if (alive(s.serverPid)) process.kill(s.serverPid, 'SIGKILL');
  const html = filesUnder(out).find((f) => f.endsWith('.html'));
  const timing = {
    stopMs: serverGoneAt - t0,
    analysisMs: exitedAt - serverGoneAt,
    reportBytes: html ? statSync(html).size : 0,
    conclusion: html ? tool.conclusion(readFileSync(html, 'utf8')) : 'no HTML report',
  };
  rmSync(out, { recursive: true, force: true });
  return timing;
}

const diagnosisTimings = new Map<string, DiagnosisTiming[]>(diagnosisTools.map((t) => [t.name, []]));
if (DIAGNOSIS_ROUNDS > 0)
  process.stderr.write(
    `time to diagnosis: ${DIAGNOSIS_ROUNDS} rounds × ${diagnosisTools.length} doctors × ${DIAGNOSIS_SECONDS} s of load, then SIGINT\n`,
  );
for (let round = 0; round < DIAGNOSIS_ROUNDS; round++) {
  for (const tool of round % 2 ? [...diagnosisTools].reverse() : diagnosisTools) {
    const timing = await timeToDiagnosis(tool);
    diagnosisTimings.get(tool.name)?.push(timing);
    process.stderr.write(
      `  round ${round + 1}: ${tool.name.padEnd(16)} stop ${timing.stopMs.toFixed(0)} ms, analysis ${timing.analysisMs.toFixed(0)} ms, HTML ${(timing.reportBytes / 1024).toFixed(0)} KiB, says: ${timing.conclusion}\n`,
    );
  }
}
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
    ratioRange: spread(ratios.get(v.name) ?? [], 3),
    throughputLoss: `${((1 - ratio) * 100).toFixed(1)}%`,
    roundRatios: (ratios.get(v.name) ?? []).map((r) => Number(r.toFixed(3))),
    medianCpuMsPerKiloRequest: Number(cpu.toFixed(2)),
    /** Throughput loss of a CPU-bound server implied by the extra CPU per request. */
    cpuImpliedLoss: `${((1 - baseCpu / cpu) * 100).toFixed(1)}%`,
    idleCpuMsPerSecond: Number(idleMs.toFixed(2)),
    idleCpuAboveBaselineMsPerSecond: Number((idleMs - (idle.get('baseline') ?? 0)).toFixed(2)),
  };
});
console.log(
  '\nvariant           median req/s   median ratio (range)   loss    CPU ms/1000 req   CPU-implied loss   idle CPU ms/s (Δ baseline)   per-round ratios',
);
for (const r of rows) {
  console.log(
    `${r.variant.padEnd(17)} ${String(r.medianReqPerSec).padStart(12)}   ${`${r.medianRatioToBaseline.toFixed(3)} (${r.ratioRange})`.padStart(20)}   ${r.throughputLoss.padStart(5)}   ${r.medianCpuMsPerKiloRequest.toFixed(1).padStart(15)}   ${r.cpuImpliedLoss.padStart(16)}   ${`${r.idleCpuMsPerSecond.toFixed(2)} (${r.idleCpuAboveBaselineMsPerSecond >= 0 ? '+' : ''}${r.idleCpuAboveBaselineMsPerSecond.toFixed(2)})`.padStart(26)}   ${r.roundRatios.join(' ')}`,
  );
}
if (clinicSkipped) console.log(`\nclinic doctor: skipped (${clinicSkipped})`);

const diagnosisRows = diagnosisTools.map((tool) => {
  const timings = diagnosisTimings.get(tool.name) ?? [];
  return {
    tool: tool.name,
    medianStopMs: Math.round(median(timings.map((t) => t.stopMs))),
    medianAnalysisMs: Math.round(median(timings.map((t) => t.analysisMs))),
    analysisMsRange: spread(
      timings.map((t) => t.analysisMs),
      0,
    ),
    medianReportBytes: Math.round(median(timings.map((t) => t.reportBytes))),
    conclusions: timings.map((t) => t.conclusion),
  };
});
if (DIAGNOSIS_ROUNDS > 0) {
  console.log(
    `\ntime to diagnosis after ${DIAGNOSIS_SECONDS} s under load (SIGINT → server gone → report written), ${DIAGNOSIS_ROUNDS} rounds`,
  );
  console.log('doctor            stop (median)   analysis (median, range)   HTML report   says');
  for (const r of diagnosisRows) {
    console.log(
      `${r.tool.padEnd(17)} ${`${r.medianStopMs} ms`.padStart(13)}   ${`${r.medianAnalysisMs} ms (${r.analysisMsRange})`.padStart(24)}   ${`${(r.medianReportBytes / 1024).toFixed(0)} KiB`.padStart(11)}   ${[...new Set(r.conclusions)].join(' | ')}`,
    );
  }
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/doctor-overhead.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      idleSeconds: IDLE_SECONDS,
      preloadFrom: useBuilt ? 'dist' : 'source',
      ...(clinicSkipped ? { clinicSkipped } : {}),
      rows,
      diagnosis: { rounds: DIAGNOSIS_ROUNDS, loadSeconds: DIAGNOSIS_SECONDS, rows: diagnosisRows },
    },
    null,
    2,
  )}\n`,
);
