// Files hangwatch writes are complete or absent under their final name, whatever happens to the
// process in the middle of a write (SIGKILL, process.exit()).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runFixture } from './helpers.js';

const fixture = join(root, 'test', 'fixtures', 'crash-mid-write.ts');

/**
 * Start the fixture, wait for `writtenBefore` complete files, then SIGKILL it `delayMs` later — or as soon
 * as `midWrite()` (polled every millisecond) sees a write in progress under a final name.
 */
function killMidWrite(
  mode: string,
  dir: string,
  writtenBefore: number,
  delayMs: number,
  midWrite: () => boolean = () => false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, dir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let written = 0;
    const poll = setInterval(() => {
      if (written >= writtenBefore && midWrite()) child.kill('SIGKILL');
    }, 1);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      written += d.split('written').length - 1;
      if (written === writtenBefore) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`${mode} ended with ${code ?? signal} before it was killed`));
    });
  });
}

t.test('{ file } report output killed mid-append: the file holds whole reports only', async (t) => {
  for (const delayMs of [0, 100, 300]) {
    const dir = mkdtempSync(join(tmpdir(), 'hangwatch-atomic-sink-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'reports.ndjson');
    // Each report is the same size: a size in between is a report being appended in place.
    let reportBytes = 0;
    await killMidWrite('sink', dir, 1, delayMs, () => {
      const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      reportBytes ||= size;
      return size % reportBytes !== 0;
    });
    const text = readFileSync(file, 'utf8');
    t.ok(
      text.endsWith('\n'),
      `killed ${delayMs} ms after the first report: no cut-off report at the end (${text.length} bytes)`,
    );
    const reports = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { n: number });
    t.same(
      reports.map((r) => r.n),
      reports.map((_, i) => i + 1),
      'every report complete, in order',
    );
  }
});

t.test('heap snapshots killed mid-write: every .heapsnapshot is complete', async (t) => {
  for (const delayMs of [10, 150]) {
    const dir = mkdtempSync(join(tmpdir(), 'hangwatch-atomic-heap-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await killMidWrite('heap-kill', dir, 1, delayMs);
    const snapshots = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
    t.ok(snapshots.length >= 1);
    for (const file of snapshots) {
      const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { snapshot?: unknown };
      t.ok(parsed.snapshot, `${file} is a complete snapshot`);
    }
  }
});

t.test('process.exit() during writeHeapSnapshot: no file under the final name, no temporary file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-atomic-exit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runFixture(fixture, { args: ['heap-exit', dir] });
  t.equal(result.code, 0, result.stderr);
  t.notMatch(result.stdout, /written/, 'the process exited during the capture');
  t.same(readdirSync(dir), [], 'nothing left: the exit handler removed the partial temporary file');
});
