import t from 'tap';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { BlockEvent } from '../../lib/index.js';
import { formatBlockLogLine } from '../../lib/export/log-line.js';
import {
  classifyCpuWindow,
  describeBlockCause,
  parseProcStatCpuMs,
  PROC_MIN_INTERVAL_MS,
  ThreadCpuWindow,
  threadCpuClock,
  type CpuWindow,
} from '../../lib/loop/thread-cpu.js';
import { fixture, root, runFixture } from '../helpers.js';

const FIXTURE = fixture('block-cause.ts');
const exact = (cpuMs: number, windowMs: number): CpuWindow => ({
  cpuMs,
  windowMs,
  resolutionMs: 0,
  source: 'threadCpuUsage',
});
const proc = (cpuMs: number, windowMs: number): CpuWindow => ({ cpuMs, windowMs, resolutionMs: 10, source: 'procfs' });

t.test('utime + stime are read from a /proc stat line, whatever the command name holds', async (t) => {
  const line = (comm: string) =>
    `4242 (${comm}) R 1 4242 4242 0 -1 4194304 2889 0 0 0 123 45 0 0 20 0 11 0 43201 1049554944 12505 18446744073709551615\n`;
  t.equal(parseProcStatCpuMs(line('node')), 1680, '(123 + 45) ticks of 10 ms');
  t.equal(parseProcStatCpuMs(line('a) R 1 2 (b')), 1680, 'parentheses and spaces in the name');
  t.equal(parseProcStatCpuMs('garbage'), undefined);
  t.equal(parseProcStatCpuMs('1 (x) R 1 2'), undefined, 'too few fields');
});

t.test(
  'the rule: blocked when the thread used at least min(threshold, half the block) of CPU, starved when less',
  async (t) => {
    t.same(classifyCpuWindow(450, 100, exact(430, 475)), { cause: 'blocked', cpuMs: 430 });
    t.same(classifyCpuWindow(450, 100, exact(4, 475)), { cause: 'starved', cpuMs: 4 });
    // A block stretched by a busy machine: 300 ms of CPU in 2 s is still 300 ms of synchronous work.
    t.same(classifyCpuWindow(2000, 100, exact(300, 2025)), { cause: 'blocked', cpuMs: 300 });
    // 60 ms of work could not have made a 100 ms block: the rest was the process not running.
    t.same(classifyCpuWindow(450, 100, exact(60, 475)), { cause: 'starved', cpuMs: 60 });
    t.same(classifyCpuWindow(450, 100, undefined), { cause: 'unknown', cpuMs: undefined }, 'no CPU clock');
    t.equal(classifyCpuWindow(1000, 100, exact(5000, 1025)).cpuMs, 1000, 'never more CPU than the block lasted');
  },
);

t.test('a /proc window that starts before the block gives a verdict only when it holds either way', async (t) => {
  // 100 ms of the window came before the block: its CPU may or may not have been there.
  t.equal(classifyCpuWindow(400, 100, proc(390, 500)).cause, 'blocked', '≥ 390 - 10 - 100 = 280 ms in the block');
  t.equal(classifyCpuWindow(400, 100, proc(20, 500)).cause, 'starved', '≤ 20 + 10 ms in the block');
  t.equal(classifyCpuWindow(120, 100, proc(120, 220)).cause, 'unknown', 'between 10 and 120 ms in a 120 ms block');
});

t.test(
  'ThreadCpuWindow measures from the last turn of the loop; /proc is read at most every PROC_MIN_INTERVAL_MS',
  async (t) => {
    let cpu = 0;
    let reads = 0;
    const read = (): number => {
      reads++;
      return cpu;
    };
    const fast = new ThreadCpuWindow({ source: 'threadCpuUsage', read });
    fast.mark(1000);
    fast.mark(1025);
    cpu = 400;
    t.same(fast.measure(1500), { cpuMs: 400, windowMs: 475, resolutionMs: 0, source: 'threadCpuUsage' });
    t.equal(reads, 3, 'a cheap clock is read at every mark');

    cpu = 0;
    reads = 0;
    const slow = new ThreadCpuWindow({ source: 'procfs', read });
    for (let now = 1000; now < 1000 + PROC_MIN_INTERVAL_MS * 3; now += 25) slow.mark(now);
    t.equal(reads, 3, `/proc read once per ${PROC_MIN_INTERVAL_MS} ms of marks`);
    cpu = 20;
    const w = slow.measure(1000 + PROC_MIN_INTERVAL_MS * 3 + 400);
    t.equal(w?.resolutionMs, 10);
    t.ok(
      w && w.windowMs > 400 && w.windowMs <= 400 + PROC_MIN_INTERVAL_MS,
      `the window starts at the last read (${w?.windowMs} ms)`,
    );
    t.equal(new ThreadCpuWindow(null).measure(5), undefined, 'no clock: nothing measured');
  },
);

t.test('the words of each verdict', async (t) => {
  t.equal(
    describeBlockCause('the main thread', 450, { cause: 'blocked', cpuMs: 430 }),
    'the main thread ran on CPU for 430 of 450 ms: the loop was blocked',
  );
  t.equal(
    describeBlockCause('the main thread', 450, { cause: 'starved', cpuMs: 4, loadAverage: 11.8, cpus: 2 }),
    'the main thread used 4 ms of CPU in 450 ms: the process was not scheduled (starved; load average 11.8 on 2 CPUs)',
  );
  t.match(
    describeBlockCause('the main thread', 450, { cause: 'starved', cpuMs: 4, loadAverage: 0.2, cpus: 2 }),
    /stopped or throttled, or the thread slept inside a synchronous call/,
    'an idle machine: not CPU contention',
  );
  t.match(
    describeBlockCause('the main thread', 2000, { cause: 'blocked', cpuMs: 300, loadAverage: 9, cpus: 2 }),
    /ran on CPU for 300 of 2000 ms: the loop was blocked by synchronous work, stretched by the process not being scheduled \(load average 9 on 2 CPUs\)/,
  );
  t.equal(describeBlockCause('the main thread', 450, { cause: 'unknown' }), undefined, 'nothing known, nothing said');
});

t.test('the platform has a thread CPU clock where expected', async (t) => {
  const clock = threadCpuClock();
  const hasThreadCpuUsage = typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';
  if (hasThreadCpuUsage) t.equal(clock?.source, 'threadCpuUsage');
  else if (process.platform === 'linux') t.equal(clock?.source, 'procfs');
  else t.equal(clock, null);
  if (!clock) return;
  // The oracle on Linux: the kernel's run time of this thread in ns (schedstat); elsewhere the
  // process's CPU time, which other threads add to.
  const schedstat = '/proc/thread-self/schedstat';
  const ranMs = (): number | undefined => {
    try {
      return Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      return undefined;
    }
  };
  const a = clock.read() ?? NaN;
  const ranA = ranMs();
  const start = process.cpuUsage();
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < 200);
  const b = clock.read() ?? NaN;
  const ranB = ranMs();
  if (ranA !== undefined && ranB !== undefined) {
    // /proc counts in 10 ms clock ticks, by sampling: two ticks either way.
    const tolerance = clock.source === 'procfs' ? 25 : 5;
    t.ok(
      Math.abs(b - a - (ranB - ranA)) <= tolerance,
      `the clock counts this thread's CPU time (${(b - a).toFixed(1)} ms; the kernel's run time ${(ranB - ranA).toFixed(1)} ms)`,
    );
  } else {
    t.ok(b - a >= 100, `the clock counts this thread's CPU time (${(b - a).toFixed(1)} ms for ~200 ms of work)`);
  }
});

interface Line {
  event: BlockEvent;
  text: string;
}
const eventsOf = (stdout: string): Line[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

t.test('a busy loop is a blocked loop, with its CPU time', async (t) => {
  const out = await runFixture(FIXTURE, { args: ['busy'] });
  t.equal(out.code, 0, out.stderr);
  const [from, to] = (/^busy (\d+) (\d+)$/m.exec(out.stdout) ?? []).slice(1).map(Number) as [number, number];
  // The block that held the busy loop (a loaded machine can add blocks of its own).
  const mine = eventsOf(out.stdout).find(
    ({ event }) =>
      Date.parse(event.startedAt) <= from + 50 && Date.parse(event.startedAt) + event.durationMs >= to - 50,
  );
  t.ok(mine, `an event covers the busy loop (${out.stdout})`);
  if (!mine) return;
  const { event, text } = mine;
  if (!threadCpuClock()) {
    t.equal(event.cause, 'unknown');
    return;
  }
  t.equal(event.cause, 'blocked', text);
  t.ok(
    event.cpuMs !== undefined && event.cpuMs >= 300,
    `the main thread's CPU time over the block (${event.cpuMs} ms for 400 ms of work)`,
  );
  t.equal(event.cpuSource, threadCpuClock()?.source);
  t.match(text, /The main thread ran on CPU for \d+ of \d+ ms: the loop was blocked/);
  t.match(formatBlockLogLine(event), /"cause":"blocked","cpuMs":\d+/, 'in the JSON log line');
});

t.test(
  'a process stopped with SIGSTOP then SIGCONT was starved, not blocked',
  { skip: process.platform === 'win32' ? 'no SIGSTOP on Windows' : false },
  async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'stop'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    await Promise.race([
      closed,
      new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
          if (/^ready$/m.test(stdout)) resolve();
        }),
      ),
    ]);
    t.match(stdout, /^ready$/m, `the child is ready (${stderr})`);
    const stoppedAt = Date.now();
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 600));
    const continuedAt = Date.now();
    child.kill('SIGCONT');
    child.stdin.end();
    const code = await closed;
    clearTimeout(killer);
    t.equal(code, 0, stderr);
    const mine = eventsOf(stdout).find(
      ({ event }) =>
        Date.parse(event.startedAt) <= stoppedAt + 50 &&
        Date.parse(event.startedAt) + event.durationMs >= continuedAt - 50,
    );
    t.ok(mine, `an event covers the stop (${stdout})`);
    if (!mine) return;
    const { event, text } = mine;
    if (!threadCpuClock()) {
      t.equal(event.cause, 'unknown');
      return;
    }
    t.equal(event.cause, 'starved', text);
    // With /proc the window may start up to PROC_MIN_INTERVAL_MS before the block, in 10 ms ticks.
    const slack = event.cpuSource === 'procfs' ? PROC_MIN_INTERVAL_MS + 10 : 0;
    // The thread can only have run in the part of the block when it was not stopped (the block may
    // start a tick before SIGSTOP), plus a clock tick.
    const runnable = Math.max(0, event.durationMs - (continuedAt - stoppedAt));
    t.ok(
      event.cpuMs !== undefined && event.cpuMs <= runnable + 15 + slack,
      `little CPU in the block (${event.cpuMs} ms, ${event.cpuSource}; runnable ${runnable} ms of ${event.durationMs})`,
    );
    t.match(text, /The main thread used \d+ ms of CPU in \d+ ms: .*\(starved; load average [\d.]+ on \d+ CPUs?\)/);
    t.equal(typeof event.loadAverage, 'number');
  },
);
