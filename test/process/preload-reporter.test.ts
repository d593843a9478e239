import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRELOAD_DEFAULTS } from '../../lib/process/preload-config.js';
import { blockEventText, makeDirectories, PreloadReporter } from '../../lib/process/preload-reporter.js';
import type { BlockEvent } from '../../lib/loop/index.js';

const event: BlockEvent = {
  schema: 'hangwatch.block-event',
  schemaVersion: 1,
  thresholdMs: 100,
  pid: 1,
  threadId: 0,
  cause: 'blocked',
  id: 7,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 250,
  stack: [{ functionName: 'hash', file: '/app/a.js', line: 3, column: 9 }],
  samples: [],
  hotFrames: [],
};

t.test('block text names the duration and the stack', async (t) => {
  const text = blockEventText(event);
  t.match(text, /event loop blocked for 250 ms \(block #7/);
  t.match(text, /\n {4}at hash \(\/app\/a\.js:3:9\)/);
  t.match(blockEventText({ ...event, stack: undefined, stackError: 'inspector busy' }), /no stack: inspector busy/);
});

t.test('files in the report dir, one per report, within the budget', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-reporter-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reporter = new PreloadReporter({
    ...PRELOAD_DEFAULTS,
    reportDir: join(dir, 'sub'),
    stderr: false,
    format: 'json',
    maxReports: 2,
  });
  reporter.block(event);
  reporter.leakSuspicion({ message: 'heap grew after 5 consecutive major GCs' });
  reporter.block({ ...event, id: 8 });
  const files = readdirSync(join(dir, 'sub')).sort();
  t.equal(files.length, 2, 'the third report is over the budget');
  t.same(reporter.files.length, 2);
  const block = JSON.parse(readFileSync(join(dir, 'sub', `block-${process.pid}-7.json`), 'utf8'));
  t.equal(block.id, 7);
  const leak = files.find((f) => f.startsWith('gc-leak-')) as string;
  t.match(JSON.parse(readFileSync(join(dir, 'sub', leak), 'utf8')), {
    schema: 'hangwatch.gc-leak-suspicion',
    message: /consecutive/,
  });
});

t.test("a starved block (the process was not scheduled) is not reported as the program's block", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-reporter-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reporter = new PreloadReporter({ ...PRELOAD_DEFAULTS, reportDir: dir, stderr: false });
  reporter.block({
    ...event,
    cause: 'starved',
    cpuMs: 4,
    stack: undefined,
    stackError: 'the watchdog did not see this block',
  });
  t.same(readdirSync(dir), [], 'no report file');
  reporter.block(event);
  t.equal(readdirSync(dir).length, 1, 'a blocked one is reported');
});

t.test('an unwritable report dir degrades to stderr only, without throwing or hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-reporter-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  // A file where a directory should be, and a path under /proc (where Node 20's recursive mkdir never returns).
  for (const reportDir of [join(file, 'sub'), '/proc/self/hangwatch-cannot-write-here/x']) {
    const reporter = new PreloadReporter({ ...PRELOAD_DEFAULTS, reportDir, stderr: false });
    t.doesNotThrow(() => reporter.block(event), reportDir);
    t.same(reporter.files, []);
  }
});

t.test('makeDirectories creates the missing levels and accepts existing ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-mkdir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  makeDirectories(join(dir, 'a', 'b', 'c'));
  makeDirectories(join(dir, 'a', 'b', 'c'));
  t.ok(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
});
