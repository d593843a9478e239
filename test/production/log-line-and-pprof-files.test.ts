/**
 * The JSON log line (pino-compatible) and the continuous pprof file export.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { Profile } from 'pprof-format';
import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';
import {
  blockLogFields,
  formatHangLogLine,
  hangLogFields,
  hangLogMessage,
  jsonLogOutput,
} from '../../lib/export/log-line.js';
import { startPprofFileExport } from '../../lib/export/pprof-file-export.js';

async function report(): Promise<HangReport> {
  let r: HangReport | undefined;
  await withHangDetection(() => new Promise((done) => setTimeout(done, 100)), {
    timeoutMs: 20,
    asyncTrace: true,
    output: 'none',
    name: 'GET /tasks',
    context: { method: 'GET', route: '/tasks', requestId: 'abc', kind: 'spoofed' },
    onHang: (x) => (r = x),
  });
  return r as HangReport;
}

t.test('log line', async (t) => {
  const r = await report();
  const line = formatHangLogLine(r);
  t.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'exactly one line');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  t.equal(parsed.level, 40);
  t.equal(typeof parsed.time, 'number');
  t.equal(parsed.msg, hangLogMessage(r));
  t.equal(parsed.route, '/tasks');
  t.equal(parsed.requestId, 'abc');
  t.equal(parsed.kind, 'pending', "context cannot override the report's own fields");
  t.equal(parsed.waitingOn, 'Timeout');
  t.match(String(parsed.waitingAt), /log-line-and-pprof-files\.test\.ts:\d+:\d+\)$/);
  t.match(String(parsed.waitingSource), /setTimeout\(done, 100\)/);

  // with pino: the fields land flat next to pino's own
  const lines: string[] = [];
  const sink = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino(sink);
  logger.warn(hangLogFields(r), hangLogMessage(r));
  const viaPino = JSON.parse(lines[0] as string) as Record<string, unknown>;
  t.equal(viaPino.level, 40);
  t.equal(viaPino.route, '/tasks');
  t.equal(viaPino.waitingOn, 'Timeout');
  t.equal(viaPino.msg, hangLogMessage(r));

  t.same(blockLogFields({ durationMs: 123.4, id: 7 }), { event: 'hangwatch.block', durationMs: 123, blockId: 7 });

  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(join(dir, 'out.log'), 'a');
  await withHangDetection(() => new Promise((done) => setTimeout(done, 60)), {
    timeoutMs: 10,
    output: jsonLogOutput(fd),
    context: { route: '/x' },
  });
  closeSync(fd);
  const written = JSON.parse(readFileSync(join(dir, 'out.log'), 'utf8')) as Record<string, unknown>;
  t.equal(written.route, '/x', 'jsonLogOutput as the output option');
  t.throws(() => jsonLogOutput(-1));
});

t.test('pprof files, period by period, rotated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-pprof-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  const exporter = await startPprofFileExport({
    dir,
    periodSeconds: 0.3,
    maxFiles: 2,
    allocations: true,
    samplingIntervalUs: 1000,
    onFile: (p) => files.push(p),
  });
  const keep: unknown[] = [];
  const end = Date.now() + 1300;
  while (Date.now() < end) {
    for (let i = 0; i < 2000; i++) keep.push({ i, s: `x${i}` });
    if (keep.length > 50_000) keep.length = 0;
    await new Promise((r) => setImmediate(r));
  }
  await exporter.stop();
  await exporter.stop();
  t.ok(exporter.written >= 6, `several periods written (${exporter.written})`);
  const left = readdirSync(dir).sort();
  t.equal(left.filter((f) => f.includes('-cpu-')).length, 2, 'maxFiles keeps the newest 2 CPU profiles');
  t.equal(left.filter((f) => f.includes('-alloc-')).length, 2, 'and 2 allocation profiles');
  t.notOk(
    left.some((f) => f.endsWith('.tmp')),
    'no temp files left',
  );
  const cpu = Profile.decode(gunzipSync(readFileSync(join(dir, left.find((f) => f.includes('-cpu-')) as string))));
  t.ok(cpu.sample.length > 0, 'the CPU profile has samples');
  const alloc = Profile.decode(gunzipSync(readFileSync(join(dir, left.find((f) => f.includes('-alloc-')) as string))));
  t.ok(alloc.sample.length > 0, 'the allocation profile has samples');
  await t.rejects(startPprofFileExport({ dir: '' }));
  await t.rejects(startPprofFileExport({ dir, cpu: false }));
});
