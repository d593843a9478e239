/**
 * `npm run bench:attach`: time from starting `hangwatch dump <pid>` to the printed stack, and to
 * the command's exit (the inspector closed again), against running targets — one spinning in a
 * function, one idle server. Baseline in the same run, interleaved round by round: `node -e 0`
 * started the same way (what any Node CLI pays before doing anything). Runs the built CLI
 * (dist/esm), as users do. `BENCH_ROUNDS=<n>` (default 10). Wall times suffer from other jobs on a
 * shared machine; the CPU time of the command (Linux: this process's children's times, 10 ms
 * ticks) does much less.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, median, percentile } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CLI = `${ROOT}dist/esm/lib/cli/main.js`;

interface Timing {
  firstOutputMs: number;
  exitMs: number;
  /** CPU time (user + system) of the command, from this process's children's times (Linux, 10 ms ticks). */
  cpuMs: number;
}

/** cutime + cstime of this process: the CPU time of its children that have been waited for, in ms. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

/** Start a command; time to its first stdout line matching `printed`, and to its exit. */
function timeCommand(args: string[], printed: RegExp): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cpuBefore = childrenCpuMs();
    let firstOutputMs = Number.NaN;
    let out = '';
    let err = '';
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (Number.isNaN(firstOutputMs) && printed.test(out)) firstOutputMs = performance.now() - started;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || Number.isNaN(firstOutputMs))
        reject(new Error(`${args.join(' ')} failed (${code}): ${err}${out}`));
      else resolve({ firstOutputMs, exitMs: performance.now() - started, cpuMs: childrenCpuMs() - cpuBefore });
    });
  });
}

function startTarget(fixture: string): Promise<{ pid: number; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--inspect-port=0', `${ROOT}test/fixtures/${fixture}`], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.stdout
      .setEncoding('utf8')
      .once('data', () => resolve({ pid: child.pid!, stop: () => child.kill('SIGKILL') }));
    child.on('error', reject);
  });
}

function row(name: string, values: number[]): string {
  return `| ${name} | ${fmt(median(values), 0)} | ${fmt(Math.min(...values), 0)} | ${fmt(percentile(values, 90), 0)} | ${fmt(Math.max(...values), 0)} |`;
}

async function main(): Promise<void> {
  const spin = await startTarget('attach-spin.mjs');
  const idle = await startTarget('attach-idle-server.mjs');
  const baseline: number[] = [];
  const baselineCpu: number[] = [];
  const spinCpu: number[] = [];
  const idleCpu: number[] = [];
  const spinStack: number[] = [];
  const spinExit: number[] = [];
  const idleStack: number[] = [];
  const idleExit: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const b = await timeCommand(['-e', 'console.log("up")'], /up/);
      baseline.push(b.firstOutputMs);
      baselineCpu.push(b.cpuMs);
      const s = await timeCommand([CLI, 'dump', String(spin.pid)], /in spinInNamedFunction/);
      spinStack.push(s.firstOutputMs);
      spinExit.push(s.exitMs);
      spinCpu.push(s.cpuMs);
      const i = await timeCommand([CLI, 'dump', String(idle.pid)], /Waiting on/);
      idleStack.push(i.firstOutputMs);
      idleExit.push(i.exitMs);
      idleCpu.push(i.cpuMs);
    }
  } finally {
    spin.stop();
    idle.stop();
  }
  console.log(
    `hangwatch dump, ${ROUNDS} interleaved rounds, Node ${process.version}, load average ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('| measure (ms) | median | min | p90 | max |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row('baseline: `node -e` to its first line', baseline));
  console.log(row('spinning target: command → printed stack', spinStack));
  console.log(row('spinning target: command → exit (inspector closed)', spinExit));
  console.log(row('idle server: command → printed "Waiting on"', idleStack));
  console.log(row('idle server: command → exit (inspector closed)', idleExit));
  console.log(row('CPU time (user+sys) of `node -e`', baselineCpu));
  console.log(row('CPU time (user+sys) of `hangwatch dump`, spinning target', spinCpu));
  console.log(row('CPU time (user+sys) of `hangwatch dump`, idle server', idleCpu));
  console.log(`median over baseline, spinning target to the stack: ${fmt(median(spinStack) - median(baseline), 0)} ms`);
}

await main();
