import t from 'tap';
import { HangError, withHangDetection, type HangReport } from '../../lib/index.js';
import { fixture, runFixture, sleep, waitFor } from '../helpers.js';

t.test('report (default): reports and keeps waiting for the result', async (t) => {
  const reports: HangReport[] = [];
  const v = await withHangDetection(
    async () => {
      await sleep(400);
      return 'late but fine';
    },
    { timeoutMs: 100, onHang: (r) => reports.push(r), output: 'none' },
  );
  t.equal(v, 'late but fine');
  t.equal(reports.length, 1);
  t.equal(reports[0]!.action, 'report');
  t.equal(reports[0]!.kind, 'pending');
});

t.test('reject: rejects with HangError carrying the report; the signal is not aborted', async (t) => {
  let seen: AbortSignal | undefined;
  const err = await withHangDetection(
    (signal) => {
      seen = signal;
      return new Promise(() => {});
    },
    { timeoutMs: 100, action: 'reject', output: 'none', name: 'rejecting' },
  ).catch((e: unknown) => e);
  t.ok(err instanceof HangError, 'a HangError');
  t.equal((err as HangError).code, 'ERR_HANG_TIMEOUT');
  t.equal((err as HangError).report.name, 'rejecting');
  t.equal(seen?.aborted, false);
});

t.test('abort: aborts the signal with the HangError and rejects', async (t) => {
  let abortedWith: unknown;
  const err = await withHangDetection(
    (signal) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          abortedWith = signal.reason;
          reject(new Error('cancelled by signal'));
        });
      }),
    { timeoutMs: 100, action: 'abort', output: 'none' },
  ).catch((e: unknown) => e);
  t.ok(err instanceof HangError, "rejects with the HangError, not the function's own error");
  t.equal(abortedWith, err, 'signal.reason is the HangError');
});

t.test('exit: an async hang writes the report then exits with the code (exit handlers run)', async (t) => {
  const res = await runFixture(fixture('hang-async-exit.ts'), { timeoutMs: 30_000 });
  t.equal(res.code, 7);
  t.match(res.stderr, /operation "never-settles"/);
  t.match(res.stderr, /The event loop is free/);
  t.match(res.stderr, /exit handler ran with 7/);
});

t.test('repeatMs: reports again while an async operation is still hung', async (t) => {
  const reports: HangReport[] = [];
  let release!: () => void;
  const startedAt = Date.now();
  const op = withHangDetection(() => new Promise<void>((r) => (release = r)), {
    timeoutMs: 100,
    repeatMs: 100,
    onHang: (r) => reports.push(r),
    output: 'none',
  });
  // Three reports come ~300 ms in on an idle machine, when the timer gets to run on a loaded one.
  await waitFor(() => reports.length >= 3);
  release();
  await op;
  const n = reports.length;
  // At most one report per repeat interval that passed (plus the first): no burst.
  const most = 2 + Math.floor((Date.now() - startedAt - 100) / 100);
  t.ok(n >= 3 && n <= most, `several reports (${n}, at most ${most})`);
  t.same(
    reports.map((r) => r.repeat),
    [...Array(n).keys()],
    'numbered 0, 1, 2, ...',
  );
  await sleep(300);
  t.equal(reports.length, n, 'no report after it settled');
});

t.test('repeatMs: reports again while the loop stays blocked (captured by the watchdog)', async (t) => {
  const reports: HangReport[] = [];
  const texts: string[] = [];
  await withHangDetection(
    function longBlock() {
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        // blocking
      }
    },
    { timeoutMs: 100, repeatMs: 300, onHang: (r) => reports.push(r), output: (text) => texts.push(text) },
  );
  t.ok(texts.length >= 2, `written while blocked, more than once (${texts.length})`);
  t.equal(reports.length, texts.length, 'every report also reaches onHang once the loop is back');
  t.ok(
    reports.every((r) => r.kind === 'blocked' && r.mainStack?.some((f) => f.functionName === 'longBlock')),
    'each has the stack',
  );
});

t.test('output: a file sink receives the text report; onHang errors do not escape', async (t) => {
  const dir = t.testdir({});
  const file = `${dir}/hangs.log`;
  await withHangDetection(() => sleep(250), {
    timeoutMs: 50,
    output: { file },
    onHang: () => {
      throw new Error('user callback bug');
    },
  });
  const { readFileSync } = await import('node:fs');
  t.match(readFileSync(file, 'utf8'), /operation "anonymous" .* has not finished/);
});
