// The doctor on the four fixture servers: it names the right problem for each, and nothing for
// the healthy one. Then the HTML report of one run is rendered in headless Chromium.
import t from 'tap';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumSkip, findChromium, renderInChromium } from './chromium.js';
import { servicesRequired } from '../helpers.js';
import { assertLoaded, assertOnly, blamesHangwatch, doctor, kinds } from './doctor-helpers.js';
import { ROOT, runCli } from './run-cli.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const htmlPath = join(ARTIFACTS, 'doctor-blocking-server.html');

t.test('blocking server: event-loop blocking', async (t) => {
  const report = await doctor('blocking-server.mjs', ['--html', htmlPath]);
  assertLoaded(t, report);
  t.equal(report.schema, 'hangwatch.doctor-report');
  t.ok(report.run.samples.length >= 8, `${report.run.samples.length} samples`);
  t.ok(report.run.pid, 'the Node.js process reported');
  assertOnly(t, report, 'event-loop-blocking');
  t.equal(report.run.stoppedByHangwatch, true);
  const finding = report.diagnosis.findings.find((f) => f.kind === 'event-loop-blocking');
  t.ok(finding && finding.ranges.length > 0, 'with the time ranges');
  // The long requests were caught in the act: the top blocking stack is the blocking function.
  const top = finding?.blockingStacks?.[0];
  t.ok(top, 'blocking stacks captured');
  t.match(
    top?.frames[0],
    { functionName: 'expensiveSyncWork', file: /blocking-server\.mjs$/, line: 9 },
    'at the line of the loop',
  );
});

t.test('I/O-bound server: waiting on I/O', async (t) => {
  const report = await doctor('io-bound-server.mjs', ['--no-html']);
  assertLoaded(t, report);
  assertOnly(t, report, 'io-wait');
});

t.test('leaking server: memory leak', async (t) => {
  const report = await doctor('leaking-server.mjs', ['--no-html']);
  assertLoaded(t, report);
  assertOnly(t, report, 'memory-leak');
  const leak = report.diagnosis.findings.find((f) => f.kind === 'memory-leak');
  t.match(leak?.evidence.map((e) => e.label).join(','), /heap after collections/);
});

t.test('healthy server: no problem', async (t) => {
  const report = await doctor('healthy-server.mjs', ['--no-html']);
  assertLoaded(t, report);
  t.same(kinds(report), ['healthy'], JSON.stringify(report.diagnosis.summary));
  t.equal(report.diagnosis.healthy, true);
  t.same(
    report.diagnosis.syncIo,
    { totalCalls: 0, totalMs: 0, sites: [], sitesOmitted: 0 },
    'sync I/O traced, none after start-up',
  );
});

const chromium = findChromium();
t.test(
  'the HTML report renders in headless Chromium with its charts and diagnosis',
  { skip: chromiumSkip(chromium, servicesRequired()) },
  async (t) => {
    if (!chromium) {
      t.fail('CI must have Chromium (.ci/setup-services installs it)');
      return;
    }
    const html = readFileSync(htmlPath, 'utf8');
    t.notMatch(html, /\b(?:src|href)=["']?(?:https?:)?\/\//, 'no external asset');
    const r = renderInChromium(chromium, htmlPath, join(ARTIFACTS, 'doctor-blocking-server.png'));
    t.same(r.consoleMessages, [], 'no console message or error');
    t.match(r.dom, /<body[^>]*data-rendered="ok"/, 'the page script ran to the end');
    t.notMatch(r.dom, /<body[^>]*data-render-error/);
    t.match(r.dom, /data-chart-count="6"/);
    for (const id of ['cpu', 'memory', 'loop-delay', 'loop-utilization', 'handles', 'gc'])
      t.match(r.dom, new RegExp(`data-chart="${id}"`), `chart ${id}`);
    t.match(
      r.dom,
      /<section class="finding critical" data-kind="event-loop-blocking">|<section class="finding warning" data-kind="event-loop-blocking">/,
      'diagnosis shown',
    );
    t.match(r.dom, /<path class="series"/, 'chart lines drawn');
    t.ok(readFileSync(join(ARTIFACTS, 'doctor-blocking-server.png')).length > 10_000, 'screenshot saved');
  },
);

t.test('leaking server with --heap-snapshots: the growing constructor is named', async (t) => {
  const report = await doctor('leaking-server.mjs', ['--no-html', '--heap-snapshots']);
  const leak = report.diagnosis.findings.find((f) => f.kind === 'memory-leak');
  t.ok(leak, `memory leak found (${JSON.stringify(report.diagnosis.summary)})`);
  const grown = JSON.stringify(leak?.growingConstructors?.slice(0, 3));
  const record = leak?.growingConstructors?.find((c) => c.name === 'SessionRecord');
  t.ok(record && record.countDelta > 0, `SessionRecord grew (${grown})`);
  // Each record holds a 64 KiB payload: ranked by what the new objects retain, it is among the first
  // (the Map's new backing store and the payload strings retain as much), not lost behind V8's own growth.
  t.ok(
    leak?.growingConstructors?.slice(0, 3).some((c) => c.name === 'SessionRecord'),
    `SessionRecord in the top 3 (${grown})`,
  );
  t.ok(
    record && (record.retainedBytes ?? 0) >= record.countDelta * 60 * 1024,
    `it retains its payloads (${record?.retainedBytes} bytes for ${record?.countDelta} records)`,
  );
});

// Real-app shapes. The leak rule is relative (lib/process/heap-trend.ts): a slow leak in a steady
// heap is found, the same program with its cache bounded is not. 15 s runs: on a loaded machine the
// load generator (and express) take seconds to start, and the rule leaves the warm-up out.
t.test(
  "healthy server with --heap-snapshots: still healthy, the snapshots shown as hangwatch's pauses, growing constructors shown",
  async (t) => {
    const report = await doctor('healthy-server.mjs', ['--no-html', '--heap-snapshots']);
    assertLoaded(t, report);
    t.notOk(kinds(report).includes('event-loop-blocking'), `no blocking (${kinds(report).join(', ')})`);
    t.notOk(blamesHangwatch(report));
    t.ok(
      report.diagnosis.hangwatchPauses.some((p) => /to take a heap snapshot/.test(p.text)),
      report.diagnosis.hangwatchPauses.map((p) => p.text).join('; '),
    );
    if (report.run.heapSnapshots.length >= 2)
      t.ok(report.diagnosis.growingConstructors !== undefined, 'growing constructors are in the diagnosis');
    else t.comment(`only ${report.run.heapSnapshots.length} snapshot(s) were written in 5 s on this machine`);
  },
);

t.test('--heap-snapshots without --duration is a usage error', async (t) => {
  const r = await runCli(['doctor', '--heap-snapshots', '--', process.execPath, '-e', '0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--heap-snapshots needs --duration/);
});
