/**
 * `createHangDetector(...).begin()`: operations ended by hand, with no function and no promise.
 * End before the deadline, end after a report, double end, reject/abort through the signal,
 * a blocked loop found at `end()`, `run()` and its async-trace attribution for 10,000 handles.
 */
import t from 'tap';
import {
  createHangDetector,
  HangError,
  InvalidOptionError,
  type HangHandle,
  type HangReport,
} from '../../lib/index.js';
import { sleep, waitFor } from '../helpers.js';

function collect(): { reports: HangReport[]; onHang: (r: HangReport) => void } {
  const reports: HangReport[] = [];
  return { reports, onHang: (r) => void reports.push(r) };
}

t.test('ended before its deadline: no report', async (t) => {
  const { reports, onHang } = collect();
  // A deadline far beyond one turn of the loop, even on a loaded machine: ended on the next turn.
  const timeoutMs = 2000;
  const detector = createHangDetector({ timeoutMs, output: 'none', onHang });
  const begunAt = Date.now();
  const handle = detector.begin('quick', { jobId: 1 });
  t.equal(handle.ended, false);
  await new Promise((r) => setImmediate(r));
  handle.end();
  const endedAfter = Date.now() - begunAt;
  t.ok(endedAfter < timeoutMs, `ended before the deadline (${endedAfter} ms)`);
  t.equal(handle.ended, true);
  // Past the deadline: its timer has run and found nothing to report.
  await sleep(timeoutMs - endedAfter + 200);
  t.equal(reports.length, 0);
});

t.test('ended after its report (action report): one report with name and context, end() still ends it', async (t) => {
  const { reports, onHang } = collect();
  const detector = createHangDetector({ timeoutMs: 60, repeatMs: 150, output: 'none', onHang });
  const handle = detector.begin('slow job', { jobId: 7 });
  t.ok(await waitFor(() => reports.length >= 1), 'reported at the deadline');
  t.equal(reports[0]?.name, 'slow job');
  t.equal(reports[0]?.operationId, handle.id);
  t.same(reports[0]?.context, { jobId: 7 });
  t.equal(reports[0]?.kind, 'pending');
  t.equal(handle.ended, false, 'action report: the operation goes on');
  handle.end();
  const n = reports.length;
  await sleep(200);
  t.equal(reports.length, n, 'no repeat after end()');
});

t.test('double end is harmless; later operations are unaffected', async (t) => {
  const { reports, onHang } = collect();
  const detector = createHangDetector({ timeoutMs: 60, output: 'none', onHang });
  const a = detector.begin('a');
  const b = detector.begin('b');
  a.end();
  a.end();
  t.equal(a.ended, true);
  // a and b share the deadline: one timer run reports both, or b alone.
  await waitFor(() => reports.length >= 1);
  t.same(
    reports.map((r) => r.name),
    ['b'],
    'the other operation is still reported',
  );
  b.end();
  b.end();
  const c = detector.begin('c');
  c.end();
  await sleep(120);
  t.equal(reports.length, 1);
});

t.test('reject: the deadline ends the handle and aborts its signal with the HangError', async (t) => {
  const { reports, onHang } = collect();
  const detector = createHangDetector({ timeoutMs: 60, action: 'reject', output: 'none', onHang });
  const early = detector.begin('read signal first');
  const signal = early.signal;
  const late = detector.begin('read signal after the deadline');
  await waitFor(() => reports.length >= 2);
  t.equal(reports.length, 2);
  t.equal(early.ended, true, 'ended at the deadline');
  t.ok(signal.aborted, 'aborted');
  t.ok(signal.reason instanceof HangError, 'with the HangError');
  t.equal(
    (signal.reason as HangError).report,
    reports.find((r) => r.name === 'read signal first'),
  );
  t.ok(
    late.signal.aborted && late.signal.reason instanceof HangError,
    'a signal read after the deadline is already aborted',
  );
  early.end();
  late.end();
  t.equal(reports.length, 2, 'end() after the deadline adds nothing');
});

t.test('abort: same for action abort; a handle ended in time keeps its signal', async (t) => {
  const detector = createHangDetector({ timeoutMs: 60, action: 'abort', output: 'none' });
  const stuck = detector.begin('stuck');
  const fine = detector.begin('fine');
  const fineSignal = fine.signal;
  let abortedWith: unknown;
  stuck.signal.addEventListener('abort', () => (abortedWith = stuck.signal.reason));
  fine.end();
  await waitFor(() => abortedWith !== undefined);
  t.ok(abortedWith instanceof HangError, 'the abort listener ran with the HangError');
  t.equal(fineSignal.aborted, false);
});

t.test(
  'a loop blocked past the deadline is found at end() (no watchdog): report and, with reject, the signal',
  async (t) => {
    const { reports, onHang } = collect();
    const detector = createHangDetector({
      timeoutMs: 40,
      action: 'reject',
      captureStack: false,
      output: 'none',
      onHang,
    });
    const handle = detector.begin('blocks');
    const signal = handle.signal;
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // blocking past the deadline: the timer cannot run
    }
    handle.end();
    t.equal(reports.length, 1);
    t.equal(reports[0]?.kind, 'blocked');
    t.ok(signal.aborted && signal.reason instanceof HangError);
  },
);

t.test('run() calls the function in the operation and returns its value', async (t) => {
  const plain = createHangDetector({ timeoutMs: 1000, output: 'none' }).begin();
  t.equal(
    plain.run(() => 42),
    42,
  );
  t.throws(
    () =>
      plain.run(() => {
        throw new Error('boom');
      }),
    /boom/,
    'errors pass through',
  );
  plain.end();
  const traced = createHangDetector({ timeoutMs: 1000, asyncTrace: true, output: 'none' }).begin();
  t.equal(
    traced.run(() => 'x'),
    'x',
  );
  traced.end();
});

t.test('bad arguments throw InvalidOptionError', async (t) => {
  const detector = createHangDetector({ timeoutMs: 100 });
  t.throws(() => detector.begin(42 as unknown as string), InvalidOptionError);
  t.throws(() => detector.begin('x', null as unknown as Record<string, string>), InvalidOptionError);
});

function never(): Promise<never> {
  return new Promise(() => {});
}

t.test('10,000 concurrent handles with asyncTrace: each report lists only its own pending resources', async (t) => {
  const N = 10_000;
  const { reports, onHang } = collect();
  // Long enough for N quick handles to start and end on this machine now (a loaded one is slow).
  const timeoutMs = Math.max(3000, 2 * (await quickHandlesMs(N)));
  const detector = createHangDetector({ timeoutMs, asyncTrace: true, output: 'none', onHang });
  const handles: HangHandle[] = [];
  const hanging = new Set<number>();
  const done: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const hangs = i % 500 === 7;
    if (hangs) hanging.add(i);
    const handle = detector.begin(`op-${i}`);
    handles.push(handle);
    done.push(
      handle.run(async () => {
        await sleep(1 + (i % 50));
        if (hangs) {
          void Promise.all(Array.from({ length: (i % 3) + 1 }, never));
          return;
        }
        handle.end();
      }),
    );
  }
  await Promise.all(done);
  await sleep(timeoutMs + 300);
  await waitFor(() => reports.length >= hanging.size);
  t.same(
    new Set(reports.map((r) => r.name)),
    new Set([...hanging].map((i) => `op-${i}`)),
    'only the handles not ended are reported',
  );
  for (const r of reports) {
    const i = Number(r.name.slice(3));
    const own = (r.pending ?? [])
      .filter((p) => p.type === 'PROMISE' && p.stack[0]?.functionName === 'never')
      .reduce((n, p) => n + p.count, 0);
    if (own !== (i % 3) + 1) {
      t.fail(`${r.name}: expected ${(i % 3) + 1} own never-settling promises, got ${own}`);
      return;
    }
  }
  t.pass('each report lists exactly its own never-settling promises');
  for (const h of handles) h.end();
});

/** How long `n` quick traced handles take from the first begin to the last end, here and now. */
async function quickHandlesMs(n: number): Promise<number> {
  const t0 = Date.now();
  const detector = createHangDetector({ timeoutMs: 3_600_000, asyncTrace: true, output: 'none' });
  const done: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const handle = detector.begin(`warm-${i}`);
    done.push(
      handle.run(async () => {
        await sleep(1 + (i % 50));
        handle.end();
      }),
    );
  }
  await Promise.all(done);
  return Date.now() - t0;
}
