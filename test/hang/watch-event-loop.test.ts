import t from 'tap';
import { watchEventLoop } from '../../lib/index.js';
import { threadCpuClock } from '../../lib/loop/thread-cpu.js';
import { fixture, runFixture } from '../helpers.js';

t.test('a stalled loop is reported while it lasts and the process is ended (action exit)', async (t) => {
  const res = await runFixture(fixture('loop-watchdog.ts'), { env: { HW_MODE: 'forever' }, timeoutMs: 30_000 });
  t.equal(res.code, 9, res.stderr.slice(0, 500));
  t.match(res.stderr, /operation "event loop"/);
  t.match(res.stderr, /The event loop is blocked/);
  t.match(res.stderr, /in busyLoop/);
  t.match(res.stderr, /in stuckForever/);
  // The exit follows a report of the loop blocked by the program, never of the process starved.
  const exitReport =
    res.stderr.slice(0, res.stderr.indexOf('exiting with code 9')).split('hangwatch: operation').pop() ?? '';
  t.match(exitReport, /The event loop is blocked: the main thread is running synchronous JavaScript/, exitReport);
});

t.test('a finite stall is reported with its stack; the watchdog keeps nothing alive', async (t) => {
  let closedAt = 0;
  const res = await runFixture(fixture('loop-watchdog.ts'), {
    env: { HW_MODE: 'finite', HW_STOP: '1' },
    timeoutMs: 60_000,
  });
  closedAt = Date.now();
  t.equal(res.code, 0, res.stderr);
  t.equal(res.signal, null, 'not killed');
  const reports = JSON.parse(res.stdout) as { kind: string; cause?: string; name: string; top?: string }[];
  t.ok(reports.length >= 1, `reported (${reports.length})`);
  // The first report of the program's own block (a loaded machine may add stalls of a starved process).
  // Its first reports may be too early to tell (little CPU used yet); the later ones say blocked.
  const cause = threadCpuClock() ? 'blocked' : 'unknown';
  const stall = reports.find((r) => r.cause === cause);
  t.same(stall, { kind: 'blocked', cause, name: 'event loop', top: 'busyLoop' }, JSON.stringify(reports));
  // Exited right after its last callback (the watchdog's worker and timers are unref'd): a
  // loaded machine makes startup slow, not this.
  const last = Number(/last callback at (\d+)/.exec(res.stderr)?.[1]);
  t.ok(closedAt - last < 5000, `exited by itself ${closedAt - last} ms after its last callback`);
});

t.test(
  'a stopped process (SIGSTOP, SIGCONT) is reported as starved, never as a free loop waiting on something',
  async (t) => {
    // Every timer is due at once when the process is continued, the deadline timer possibly before
    // the renewing interval: the loop turning then is no hang.
    const res = await runFixture(fixture('loop-watchdog-idle.ts'), { timeoutMs: 60_000 });
    t.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      pending: number;
      blocked: { cause?: string; cpuMs?: number; text: string }[];
    };
    t.equal(out.pending, 0, 'no "waiting on something" report for the loop');
    t.ok(out.blocked.length >= 1, 'the 0.6 s stop is reported');
    for (const b of out.blocked) {
      t.equal(b.cause, 'starved', b.text);
      t.match(b.text, /The event loop has not turned: the main thread used \d+ ms of CPU/);
    }
  },
);

t.test('watchEventLoop validates its options', async (t) => {
  t.throws(() => watchEventLoop({ action: 'reject' as never }), { code: 'ERR_INVALID_OPTION', option: 'action' });
  t.throws(() => watchEventLoop({ timeoutMs: 5 }), { code: 'ERR_INVALID_OPTION', option: 'timeoutMs' });
  t.throws(() => watchEventLoop({ timeoutMs: -1 }), { code: 'ERR_INVALID_OPTION' });
});
