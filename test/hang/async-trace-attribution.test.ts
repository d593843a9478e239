/**
 * asyncTrace attribution at any concurrency: many traced operations at once, a third of them stuck
 * each on its own never-settling promise made in a helper after an `await` — exactly the stuck
 * ones are reported, and each report lists exactly its own stuck promise, with the line that
 * created it. The stuck promises are garbage as soon as they are awaited (nothing else holds
 * them), so the collector runs into them while the operations wait: a pending promise that was
 * collected is still what its operation waits on.
 */
import t, { type Test } from 'tap';
import { createHangDetector, withHangDetection, type HangReport } from '../../lib/index.js';

const STUCK_LINE = 14;
function stuck(): Promise<never> {
  return new Promise(() => {}); // line 14: each report must point here, once
}

/**
 * The stuck promises exist, and the quick operations have ended, one turn of the loop after the
 * operations start; the deadline only has to be later than that turn, with room for a starved
 * process on a loaded machine (setting up 1,000 traced operations takes ~20 ms of CPU).
 */
const DEADLINE_MS = 3000;

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Churn the heap so that the collector runs while the operations wait (as a busy server does). */
async function churn(ms: number): Promise<void> {
  const until = Date.now() + ms;
  let keep: unknown[] = [];
  while (Date.now() < until) {
    for (let i = 0; i < 20_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    await tick();
  }
}

/** Check the reports: the stuck operations and only they, each listing its one stuck promise. */
function checkReports(t: Test, reports: HangReport[], stuckNames: Set<string>): void {
  t.same(new Set(reports.map((r) => r.name)), stuckNames, 'exactly the stuck operations are reported');
  t.equal(reports.length, stuckNames.size, 'one report each');
  const wrong: string[] = [];
  for (const r of reports) {
    const own = (r.pending ?? []).filter((p) => p.type === 'PROMISE' && p.stack[0]?.functionName === 'stuck');
    const count = own.reduce((n, p) => n + p.count, 0);
    if (
      count !== 1 ||
      own[0]?.stack[0]?.line !== STUCK_LINE ||
      !/new Promise\(\(\) => \{\}\)/.test(own[0]?.stack[0]?.sourceLine ?? '')
    ) {
      wrong.push(`${r.name}: ${count} stuck promises (${own.map((p) => `line ${p.stack[0]?.line}`).join(', ')})`);
    }
  }
  t.same(
    wrong.slice(0, 10),
    [],
    `each report lists exactly its own stuck promise at line ${STUCK_LINE} (${wrong.length} wrong)`,
  );
}

for (const N of [30, 60, 300, 1000]) {
  t.test(`${N} concurrent withHangDetection operations, a third stuck after an await`, async (t) => {
    const reports: HangReport[] = [];
    const stuckNames = new Set<string>();
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const hangs = i % 3 === 0;
      if (hangs) stuckNames.add(`op-${i}`);
      ops.push(
        withHangDetection(
          async function operation() {
            await tick();
            if (hangs) await stuck();
            return i;
          },
          {
            name: `op-${i}`,
            timeoutMs: DEADLINE_MS,
            asyncTrace: true,
            action: 'reject',
            output: 'none',
            onHang: (r) => void reports.push(r),
          },
        ).catch((e: { code?: string }) => e.code),
      );
    }
    await churn(300);
    const results = await Promise.all(ops);
    t.equal(
      results.filter((r) => r === 'ERR_HANG_TIMEOUT').length,
      stuckNames.size,
      'exactly the stuck operations time out',
    );
    checkReports(t, reports, stuckNames);
  });
}

t.test('1000 concurrent hang handles (begin/run), a third stuck after an await', async (t) => {
  const N = 1000;
  const reports: HangReport[] = [];
  const detector = createHangDetector({
    timeoutMs: DEADLINE_MS,
    asyncTrace: true,
    output: 'none',
    onHang: (r) => void reports.push(r),
  });
  const stuckNames = new Set<string>();
  const handles = [];
  for (let i = 0; i < N; i++) {
    const hangs = i % 3 === 0;
    if (hangs) stuckNames.add(`op-${i}`);
    const handle = detector.begin(`op-${i}`);
    handles.push(handle);
    void handle.run(async () => {
      await tick();
      if (hangs) await stuck();
      handle.end();
    });
  }
  await churn(300);
  // Wait for the reports rather than for a fixed time: one per stuck handle is expected.
  const until = Date.now() + 20_000;
  while (reports.length < stuckNames.size && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200)); // room for a wrong extra report to show up
  checkReports(t, reports, stuckNames);
  t.equal(handles.filter((h) => !h.ended).length, stuckNames.size, 'the quick handles ended');
  for (const h of handles) h.end();
});
