// The doctor on the four fixture servers: it names the right problem for each, and nothing for
// the healthy one. Then the HTML report of one run is rendered in headless Chromium.
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingKind } from '../../lib/report/diagnosis.js';
import type { DoctorReport } from '../../lib/report/doctor-report.js';
import { chromiumSkip, findChromium, renderInChromium } from './chromium.js';
import { servicesRequired } from '../helpers.js';
import { fixture, ROOT, runCli } from './run-cli.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

async function doctor(name: string, extra: string[] = [], args: string[] = [], seconds = 5): Promise<DoctorReport> {
  const r = await runCli(['doctor', '--duration', String(seconds), '--interval', '200', '--json', '--quiet', ...extra, '--', process.execPath, fixture(name), ...args]);
  if (r.code !== 0) throw new Error(`doctor exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DoctorReport;
}

const kinds = (report: DoctorReport) => report.diagnosis.findings.map((f) => f.kind);

const PROBLEMS: FindingKind[] = ['event-loop-blocking', 'io-wait', 'memory-leak', 'handle-leak'];

/** The expected problem is named, and no other of the problems the fixtures stand for. */
function assertOnly(t: Test, report: DoctorReport, expected: FindingKind): void {
  const found = kinds(report);
  t.ok(found.includes(expected), `${expected} found; findings: ${found.join(', ')}`);
  t.same(found.filter((k) => PROBLEMS.includes(k) && k !== expected), [], 'no other problem named');
}

/** The load generator really connected (sockets open) for a good part of the run; startup is slow on a loaded machine. */
function assertLoaded(t: Test, report: DoctorReport): void {
  const loaded = report.run.samples.filter((s) => (s.handlesByType.TCPSocketWrap ?? 0) > 0).length;
  t.ok(loaded >= 4 && loaded >= report.run.samples.length / 3, `under load in ${loaded} of ${report.run.samples.length} samples`);
}
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
  t.match(top?.frames[0], { functionName: 'expensiveSyncWork', file: /blocking-server\.mjs$/, line: 9 }, 'at the line of the loop');
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
});

const chromium = findChromium();
t.test('the HTML report renders in headless Chromium with its charts and diagnosis', { skip: chromiumSkip(chromium, servicesRequired()) }, async (t) => {
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
  for (const id of ['cpu', 'memory', 'loop-delay', 'loop-utilization', 'handles', 'gc']) t.match(r.dom, new RegExp(`data-chart="${id}"`), `chart ${id}`);
  t.match(r.dom, /<section class="finding critical" data-kind="event-loop-blocking">|<section class="finding warning" data-kind="event-loop-blocking">/, 'diagnosis shown');
  t.match(r.dom, /<path class="series"/, 'chart lines drawn');
  t.ok(readFileSync(join(ARTIFACTS, 'doctor-blocking-server.png')).length > 10_000, 'screenshot saved');
});

t.test('leaking server with --heap-snapshots: the growing constructor is named', async (t) => {
  const report = await doctor('leaking-server.mjs', ['--no-html', '--heap-snapshots']);
  const leak = report.diagnosis.findings.find((f) => f.kind === 'memory-leak');
  t.ok(leak, `memory leak found (${JSON.stringify(report.diagnosis.summary)})`);
  const grown = JSON.stringify(leak?.growingConstructors?.slice(0, 3));
  const record = leak?.growingConstructors?.find((c) => c.name === 'SessionRecord');
  t.ok(record && record.countDelta > 0, `SessionRecord grew (${grown})`);
  // Each record holds a 64 KiB payload: ranked by what the new objects retain, it is among the first
  // (the Map's new backing store and the payload strings retain as much), not lost behind V8's own growth.
  t.ok(leak?.growingConstructors?.slice(0, 3).some((c) => c.name === 'SessionRecord'), `SessionRecord in the top 3 (${grown})`);
  t.ok(record && (record.retainedBytes ?? 0) >= record.countDelta * 60 * 1024, `it retains its payloads (${record?.retainedBytes} bytes for ${record?.countDelta} records)`);
});

// Real-app shapes. The leak rule is relative (lib/process/heap-trend.ts): a slow leak in a steady
// heap is found, the same program with its cache bounded is not. 15 s runs: on a loaded machine the
// load generator (and express) take seconds to start, and the rule leaves the warm-up out.
const blamesHangwatch = (report: DoctorReport) =>
  report.diagnosis.findings.flatMap((f) => f.blockingStacks ?? []).some((s) => s.frames.slice(0, 8).some((f) => /inspector-heap-snapshot|^node:inspector$/.test(f.file)));

for (const snapshots of [false, true]) {
  const extra = snapshots ? ['--no-html', '--heap-snapshots'] : ['--no-html'];
  const label = snapshots ? ' (with --heap-snapshots)' : '';
  t.test(`a cache growing ~5 MB/min in a ~30 MB heap: memory leak${label}`, async (t) => {
    const report = await doctor('cache-server.mjs', extra, ['leak'], 15);
    assertLoaded(t, report);
    const leak = report.diagnosis.findings.find((f) => f.kind === 'memory-leak');
    t.ok(leak, `leak found (${kinds(report).join(', ')}; live heap ${report.run.samples.filter((s) => s.liveHeapBytes).map((s) => ((s.liveHeapBytes as number) / 1e6).toFixed(2)).join(' ')})`);
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
    if (snapshots) {
      t.ok(report.diagnosis.hangwatchPauses.some((p) => p.reason === 'heap-snapshot'), `the snapshots are listed as hangwatch's pauses (${report.diagnosis.hangwatchPauses.map((p) => p.text).join('; ')})`);
      if (report.run.heapSnapshots.length >= 2) t.ok(report.diagnosis.growingConstructors?.some((c) => c.name === 'CacheEntry'), 'CacheEntry among the growing constructors');
    }
  });
  t.test(`the same server with its cache bounded: no leak${label}`, async (t) => {
    const report = await doctor('cache-server.mjs', extra, ['bounded'], 15);
    assertLoaded(t, report);
    t.notOk(kinds(report).includes('memory-leak'), `no leak (${kinds(report).join(', ')}; live heap ${report.run.samples.filter((s) => s.liveHeapBytes).map((s) => ((s.liveHeapBytes as number) / 1e6).toFixed(2)).join(' ')})`);
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
    if (snapshots && report.run.heapSnapshots.length >= 2) t.ok(report.diagnosis.growingConstructors?.length, 'growing constructors shown without a leak finding');
  });
  t.test(`express + express-session MemoryStore under load: memory leak${label}`, async (t) => {
    const report = await doctor('session-store-server.mjs', extra, [], 15);
    assertLoaded(t, report);
    t.ok(kinds(report).includes('memory-leak'), kinds(report).join(', '));
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
  });
}

t.test('healthy server with --heap-snapshots: still healthy, the snapshots shown as hangwatch\'s pauses, growing constructors shown', async (t) => {
  const report = await doctor('healthy-server.mjs', ['--no-html', '--heap-snapshots']);
  assertLoaded(t, report);
  t.notOk(kinds(report).includes('event-loop-blocking'), `no blocking (${kinds(report).join(', ')})`);
  t.notOk(blamesHangwatch(report));
  t.ok(report.diagnosis.hangwatchPauses.some((p) => /to take a heap snapshot/.test(p.text)), report.diagnosis.hangwatchPauses.map((p) => p.text).join('; '));
  if (report.run.heapSnapshots.length >= 2) t.ok(report.diagnosis.growingConstructors !== undefined, 'growing constructors are in the diagnosis');
  else t.comment(`only ${report.run.heapSnapshots.length} snapshot(s) were written in 5 s on this machine`);
});

t.test('--heap-snapshots without --duration is a usage error', async (t) => {
  const r = await runCli(['doctor', '--heap-snapshots', '--', process.execPath, '-e', '0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--heap-snapshots needs --duration/);
});
