import t from 'tap';
import { watchEventLoop } from '../../lib/index.js';
import { fixture, runFixture } from '../helpers.js';

t.test('a stalled loop is reported while it lasts and the process is ended (action exit)', async (t) => {
  const res = await runFixture(fixture('loop-watchdog.ts'), { env: { HW_MODE: 'forever' }, timeoutMs: 30_000 });
  t.equal(res.code, 9, res.stderr.slice(0, 500));
  t.match(res.stderr, /operation "event loop"/);
  t.match(res.stderr, /The event loop is blocked/);
  t.match(res.stderr, /in busyLoop/);
  t.match(res.stderr, /in stuckForever/);
});

t.test('a finite stall is reported with its stack; the watchdog keeps nothing alive', async (t) => {
  const res = await runFixture(fixture('loop-watchdog.ts'), { env: { HW_MODE: 'finite', HW_STOP: '1' }, timeoutMs: 30_000 });
  t.equal(res.code, 0, res.stderr);
  const reports = JSON.parse(res.stdout) as { kind: string; name: string; top?: string }[];
  t.ok(reports.length >= 1, `reported (${reports.length})`);
  t.same(reports[0], { kind: 'blocked', name: 'event loop', top: 'busyLoop' });
  t.ok(res.ms < 10_000, `exited by itself (${res.ms} ms)`);
});

t.test('watchEventLoop validates its options', async (t) => {
  t.throws(() => watchEventLoop({ action: 'reject' as never }), { code: 'ERR_INVALID_OPTION', option: 'action' });
  t.throws(() => watchEventLoop({ timeoutMs: 5 }), { code: 'ERR_INVALID_OPTION', option: 'timeoutMs' });
  t.throws(() => watchEventLoop({ timeoutMs: -1 }), { code: 'ERR_INVALID_OPTION' });
});
