// The HTML report on a synthetic run that has everything the fixtures cannot produce here:
// block events with stacks, growing constructors, hostile strings. Rendered in Chromium.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { BlockEvent } from '../../lib/loop/index.js';
import { diagnose } from '../../lib/process/diagnose.js';
import { type DoctorReport, renderDoctorText } from '../../lib/report/doctor-report.js';
import { niceCeiling, reducePoints } from '../../lib/report/render-html-charts.js';
import { renderDoctorHtml } from '../../lib/report/render-html-doctor.js';
import type { SyncIoReport } from '../../lib/report/sync-io-report.js';
import { servicesRequired } from '../helpers.js';
import { delay, series } from '../process/synthetic-samples.js';
import { chromiumSkip, findChromium, renderInChromium } from './chromium.js';
import { ROOT } from './run-cli.js';

const hostile = '</script><img src=x onerror=alert(1)>';
const frame = (functionName: string, line: number) => ({
  functionName,
  file: '/app/server.js',
  line,
  column: 5,
  sourceLine: `const x = ${functionName}(input); // ${hostile}`,
});
const blocks: BlockEvent[] = [1, 2, 3].map((id) => ({
  schema: 'hangwatch.block-event',
  schemaVersion: 1,
  id,
  startedAt: new Date(1_700_000_000_000 + id * 1000).toISOString(),
  durationMs: 150 * id,
  thresholdMs: 100,
  pid: 4242,
  threadId: 0,
  cause: 'blocked',
  stack: [
    frame('hashPassword', 41),
    frame(hostile, 12),
    { functionName: 'emit', file: 'node:events', line: 1, column: 1 },
  ],
  samples: [],
  hotFrames: [{ frame: frame('hashPassword', 41), ratio: 1, samples: 1 }],
}));
const samples = series(40, (i) => ({
  heapUsedBytes: 20e6 + i * 2e6,
  ...(i % 3 === 0 ? { loopDelay: delay(200 + i), loopUtilization: 0.97, cpuPercent: 99 } : {}),
}));
const syncIoReport = (calls: number): SyncIoReport => ({
  schema: 'hangwatch.sync-io',
  schemaVersion: 1,
  pid: 4242,
  since: '',
  at: '',
  totalCalls: calls,
  totalMs: calls * 0.5,
  sites: calls
    ? [
        {
          call: 'fs.readFileSync',
          caller: frame('loadTemplate', 30),
          via: frame(hostile, 8),
          count: calls,
          totalMs: calls * 0.5,
          maxMs: 0.9,
        },
      ]
    : [],
});
const diagnosis = diagnose(samples, {
  blocks,
  hangwatchPauses: [{ reason: 'heap-snapshot', atMs: 2500, durationMs: 1800 }],
  growingConstructors: [
    { name: 'SessionRecord', countDelta: 1200, sizeDeltaBytes: 80e6 },
    { name: hostile, countDelta: 3, sizeDeltaBytes: 100 },
  ],
  syncIo: syncIoReport(120),
});
const report: DoctorReport = {
  schema: 'hangwatch.doctor-report',
  schemaVersion: 1,
  generator: 'test',
  run: {
    command: ['node', `app.js`, hostile],
    startedAt: new Date(1_700_000_000_000).toISOString(),
    durationMs: 10_000,
    exitCode: undefined,
    signal: 'SIGINT',
    stoppedByHangwatch: true,
    pid: 4242,
    processes: [{ pid: 4242, ppid: 1, argv: ['node', 'app.js'] }],
    samples,
    external: samples.map((s) => ({ t: s.t, cpuPercent: s.cpuPercent, rssBytes: s.rssBytes })),
    blocks,
    heapSnapshots: [],
    hangwatchPauses: [],
    reportFiles: [],
    malformedRecords: 0,
  },
  diagnosis,
};
const html = renderDoctorHtml(report);
const dir = join(ROOT, 'test-artifacts');
mkdirSync(dir, { recursive: true });
const path = join(dir, 'doctor-synthetic.html');
writeFileSync(path, html);

t.test('the synthetic run has the findings the page must show', async (t) => {
  const kinds = diagnosis.findings.map((f) => f.kind);
  t.ok(
    kinds.includes('event-loop-blocking') && kinds.includes('memory-leak') && kinds.includes('sync-io'),
    kinds.join(','),
  );
});

t.test('synchronous I/O: the call sites in the finding; below the thresholds, in a section of their own', async (t) => {
  t.match(
    html,
    /<section class="finding warning" data-kind="sync-io">[\s\S]*<table class="sync-io">[\s\S]*<code>fs\.readFileSync<\/code><\/td><td>×120<\/td>[\s\S]*loadTemplate \(\/app\/server\.js:30\)/,
  );
  t.notMatch(html, /<h2 id="sync-io">/, 'no separate section when the finding shows them');
  const few = { ...report, diagnosis: diagnose(samples, { syncIo: syncIoReport(1) }) };
  t.notOk(few.diagnosis.findings.some((f) => f.kind === 'sync-io'));
  t.match(
    renderDoctorHtml(few),
    /<h2 id="sync-io">Synchronous I\/O after start-up<\/h2><p class="muted">1 call\(s\), 0\.5 ms in all: not enough for a finding\.<\/p><table class="sync-io">/,
  );
  t.match(
    renderDoctorText(few),
    /\nsynchronous I\/O after start-up: 1 call\(s\), 0\.5 ms \(not enough for a finding\):\n {2}fs\.readFileSync ×1, 0\.5 ms total \(max 0\.9 ms\) in loadTemplate \(\/app\/server\.js:30\)\n {6}const x = loadTemplate/,
  );
  const none = { ...report, diagnosis: diagnose(samples, { syncIo: syncIoReport(0) }) };
  t.match(renderDoctorHtml(none), /<h2 id="sync-io">Synchronous I\/O after start-up<\/h2><p class="muted">None/);
  t.match(renderDoctorText(none), /\nsynchronous I\/O after start-up: none$/);
  const untraced = { ...report, diagnosis: diagnose(samples) };
  t.notMatch(renderDoctorHtml(untraced), /id="sync-io"/);
  t.notMatch(renderDoctorText(untraced), /synchronous I\/O/);
});

t.test("hangwatch's own pauses and the growing constructors have their sections", async (t) => {
  t.match(
    html,
    /<h2 id="hangwatch-pauses">hangwatch's own pauses<\/h2>[\s\S]*hangwatch paused the program for 1\.8 s to take a heap snapshot \(at 2\.5 s\)/,
  );
  t.match(html, /<h2 id="growing">Growing constructors between the heap snapshots<\/h2>[\s\S]*SessionRecord/);
});

t.test('hostile strings are escaped in markup and in the embedded JSON', async (t) => {
  t.notMatch(html, /<img src=x/);
  t.notMatch(html.replace(/<\/script>\s*<script>/, ''), /<\/script><img/);
  const json = /<script type="application\/json" id="hangwatch-report">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const parsed = JSON.parse(json) as DoctorReport;
  t.equal(parsed.run.command[2], hostile, 'the embedded JSON round-trips');
});

t.test('chart helpers', async (t) => {
  const points = Array.from({ length: 10_000 }, (_, i) => ({ t: i, v: i === 7777 ? 1000 : i % 7 }));
  const reduced = reducePoints(points, 600);
  t.ok(reduced.length <= 600);
  t.ok(
    reduced.some((p) => p.v === 1000),
    'the peak survives',
  );
  t.same(
    reduced.map((p) => p.t),
    [...reduced.map((p) => p.t)].sort((a, b) => a - b),
    'time order kept',
  );
  t.equal(niceCeiling(0.7), 1);
  t.equal(niceCeiling(130), 200);
  t.equal(niceCeiling(4000), 5000);
  t.equal(niceCeiling(0), 1);
});

const chromium = findChromium();
t.test(
  'rendered in Chromium: stacks, constructors, charts, no error',
  { skip: chromiumSkip(chromium, servicesRequired()) },
  async (t) => {
    if (!chromium) {
      t.fail('CI must have Chromium (.ci/setup-services installs it)');
      return;
    }
    const r = renderInChromium(chromium, path, join(dir, 'doctor-synthetic.png'));
    t.same(r.consoleMessages, [], 'no console message (the hostile strings did not run)');
    t.match(r.dom, /<body[^>]*data-rendered="ok"/);
    t.match(r.dom, /data-chart-count="6"/);
    t.match(r.dom, /Top blocking stacks/);
    t.match(r.dom, /hashPassword \(\/app\/server\.js:41:5\)/);
    t.match(r.dom, /Growing constructors[\s\S]*SessionRecord/);
    t.match(r.dom, /class="highlight"/, 'finding ranges shaded on the charts');
    t.match(r.dom, /450 ms<\/strong>/, 'block list, longest first');
  },
);
