import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';
import { fixture, runFixture } from '../helpers.js';
let returnedAt = 0; // when busyFor() returned: a report made before it was made while blocked
function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // blocking on purpose
  }
}

t.test('a sync operation that blocks past its deadline is reported with the blocking function and line', async (t) => {
  const reports: HangReport[] = [];
  const value = await withHangDetection(
    function computeEverything() {
      busyFor(1200);
      returnedAt = Date.now(); // <- reported line
      return 'done';
    },
    { timeoutMs: 150, name: 'sync-block', onHang: (r) => reports.push(r), output: 'none' },
  );
  t.equal(value, 'done', 'action "report" lets the operation finish');
  t.equal(reports.length, 1, 'one report');
  const r = reports[0]!;
  t.equal(r.kind, 'blocked');
  t.equal(r.name, 'sync-block');
  t.ok(r.mainStack && r.mainStack.length > 0, `has a main-thread stack (${r.stackUnavailable ?? ''})`);
  const top = r.mainStack!.find((f) => f.file.endsWith('blocked-loop.test.ts'));
  t.equal(top?.functionName, 'busyFor', 'innermost user frame is the blocking function');
  t.equal(top?.line, 7, 'and the line of the blocking loop (source-mapped TypeScript)');
  const caller = r.mainStack!.find((f) => f.functionName === 'computeEverything');
  t.equal(caller?.line, 16, 'the caller frame points at its line');
  t.match(caller?.sourceLine, /busyFor\(1200\)/, 'source line is included');
  // Before the blocking call returned (on a loaded machine that can be well after 1200 ms).
  t.ok(
    r.elapsedMs >= 150 && Date.parse(r.detectedAt) <= returnedAt,
    `captured while still blocked (${r.elapsedMs} ms in, ${returnedAt - Date.parse(r.detectedAt)} ms before it returned)`,
  );
  t.equal(r.schema, 'hangwatch.hang-report');
  t.same(JSON.parse(JSON.stringify(r)), r, 'JSON round-trips');
});

t.test('an infinite loop that never yields is reported and the process exits (action exit)', async (t) => {
  const res = await runFixture(fixture('hang-sync-forever.ts'), { timeoutMs: 30_000 });
  t.equal(res.code, 42, `exit code from options (stderr: ${res.stderr.slice(0, 400)})`);
  t.match(res.stderr, /operation "spin-forever"/);
  t.match(res.stderr, /The event loop is blocked/);
  t.match(res.stderr, /most recent call last/);
  t.match(res.stderr, /hang-sync-forever\.ts", line 7, column \d+, in spinForever/, 'points at the spinning line');
  t.match(res.stderr, /for \(;;\) \{ x = \(x \+ 1\) \| 0;/, 'shows the source line');
  t.match(res.stderr, /in neverYields/, 'shows the caller');
  // The traceback prints most recent call last: neverYields before spinForever.
  t.ok(res.stderr.indexOf('in neverYields') < res.stderr.indexOf('in spinForever'), 'most recent call last');
});

t.test('the JSON format writes one parseable report', async (t) => {
  const res = await runFixture(fixture('hang-sync-forever.ts'), { env: { HW_FORMAT: 'json' }, timeoutMs: 30_000 });
  t.equal(res.code, 42);
  const line = res.stderr.split('\n').find((l) => l.startsWith('{'));
  t.ok(line, 'a JSON line');
  const report = JSON.parse(line!) as HangReport;
  t.equal(report.schemaVersion, 1);
  t.equal(report.kind, 'blocked');
  t.equal(report.mainStack?.[0]?.functionName, 'spinForever');
  t.equal(report.mainStack?.[0]?.line, 7);
});

t.test('a block shorter than the deadline is not reported', async (t) => {
  const reports: HangReport[] = [];
  await withHangDetection(() => busyFor(50), { timeoutMs: 1000, onHang: (r) => reports.push(r), output: 'none' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(reports.length, 0);
});

t.test('reject: a sync operation that ran past its deadline rejects with HangError', async (t) => {
  await t.rejects(
    withHangDetection(() => busyFor(600), { timeoutMs: 100, action: 'reject', output: 'none' }),
    { code: 'ERR_HANG_TIMEOUT', report: { kind: 'blocked' } },
  );
});
