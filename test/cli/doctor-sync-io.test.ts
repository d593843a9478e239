// The doctor traces synchronous I/O after start-up and names the call sites in the request path:
// in the diagnosis, the text report and the HTML report; --no-sync-io turns it off.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doctor } from './doctor-helpers.js';
import { fixture, runCli } from './run-cli.js';

const FIXTURE = 'sync-io-server.mjs';
const lineOf = (marker: string): number =>
  readFileSync(fixture(FIXTURE), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(marker)) + 1;

t.test(
  'a handler that reads and gzips synchronously: a sync-io finding with both call sites, in JSON and HTML',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hangwatch-doctor-sync-io-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const html = join(dir, 'report.html');
    // No --duration: the program exits after serving 60 requests, however late the load starts.
    const report = await doctor(FIXTURE, ['--html', html], ['60'], undefined);
    t.ok(report.run.syncIo, 'the program sent its sync-io record');
    const finding = report.diagnosis.findings.find((f) => f.kind === 'sync-io');
    t.ok(finding, `sync-io finding; findings: ${report.diagnosis.findings.map((f) => f.kind).join(', ')}`);
    const sites = finding?.syncIoSites ?? [];
    const read = sites.find((s) => s.call === 'fs.readFileSync');
    const gzip = sites.find((s) => s.call === 'zlib.gzipSync');
    t.match(
      read?.caller,
      { functionName: 'renderPage', file: /sync-io-server\.mjs$/, line: lineOf('SYNC-READ') },
      'the read, at its line',
    );
    t.match(
      gzip?.caller,
      { functionName: 'renderPage', file: /sync-io-server\.mjs$/, line: lineOf('SYNC-GZIP') },
      'the gzip, at its line',
    );
    t.match(read?.caller.sourceLine, /SYNC-READ/, 'with its source line');
    // Start-up's read (module top level) is not counted: every counted read is a request's, as is every gzip.
    t.equal(read?.count, 60, 'one read per request');
    t.equal(gzip?.count, 60, 'one gzip per request');
    t.equal(sites.length, 2, 'nothing else: not the start-up read, not hangwatch');
    t.equal(report.diagnosis.syncIo?.totalCalls, 120);

    const page = readFileSync(html, 'utf8');
    t.match(page, /<section class="finding (warning|critical)" data-kind="sync-io">/, 'HTML: the finding');
    t.match(
      page,
      /<table class="sync-io">.*<code>zlib\.gzipSync<\/code>.*renderPage \([^)]*sync-io-server\.mjs:\d+\)/s,
      'HTML: the call sites',
    );
  },
);

t.test('the text report lists the call sites under the finding', async (t) => {
  const r = await runCli([
    'doctor',
    '--interval',
    '200',
    '--no-html',
    '--quiet',
    '--',
    process.execPath,
    fixture(FIXTURE),
    '20',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Synchronous I\/O after start-up \((warning|critical)\)/);
  t.match(
    r.stdout,
    new RegExp(
      `call sites \\(costliest first\\):\\n(.*\\n)*\\s+fs\\.readFileSync ×20, .* in renderPage \\(.*sync-io-server\\.mjs:${lineOf('SYNC-READ')}\\)\\n\\s+const template = readFileSync`,
    ),
  );
});

t.test('--no-sync-io: not traced, nothing said', async (t) => {
  const report = await doctor(FIXTURE, ['--no-html', '--no-sync-io'], ['20'], undefined);
  t.equal(report.run.syncIo, undefined);
  t.equal(report.diagnosis.syncIo, undefined);
  t.notOk(report.diagnosis.findings.some((f) => f.kind === 'sync-io'));
});
