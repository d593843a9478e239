import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeHeapSnapshot, type CaptureProgress } from '../../lib/heap/write-heap-snapshot.js';
import { loadHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import { diffHeapSnapshots } from '../../lib/heap/heap-diff.js';
import { HeapSnapshotCaptureError, InsufficientDiskSpaceError } from '../../lib/heap/errors.js';
import { InvalidOptionError } from '../../lib/errors.js';
import { nativeAddonUnavailable } from '../native-addons.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-capture-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

class StableMarker {
  readonly tag = 'stable';
}
const marker = new StableMarker();

t.test('inspector capture streams to disk with progress; object ids stay stable across captures', async (t) => {
  const progress: CaptureProgress[] = [];
  const first = await writeHeapSnapshot({ dir, onProgress: (p) => progress.push(p) });
  t.match(basename(first), /^hangwatch-\d+-\d{8}T\d{6}-\d+\.heapsnapshot$/);
  t.equal(first, join(dir, basename(first)), 'absolute path in dir');
  const writes = progress.filter((p) => p.phase === 'write');
  t.ok(writes.length > 1, 'progress after each chunk');
  t.same(
    writes.map((p) => p.bytesWritten),
    [...writes.map((p) => p.bytesWritten)].sort((x, y) => x - y),
    'monotonic',
  );
  const last = progress[progress.length - 1]!;
  t.equal(last.phase, 'done');
  t.equal(last.bytesWritten, statSync(first).size, 'bytes written = file size');

  const second = await writeHeapSnapshot({
    dir,
    onProgress: () => {
      throw new Error('a broken progress callback');
    },
  });
  const [a, b] = await Promise.all([loadHeapSnapshot(first), loadHeapSnapshot(second)]);
  const ma = a.nodesBy('StableMarker');
  const mb = b.nodesBy('StableMarker');
  t.equal(ma.length, 1);
  t.equal(mb.length, 1);
  t.equal(ma[0]!.id, mb[0]!.id, 'same object, same id in both snapshots');
  const diff = diffHeapSnapshots(a, b);
  t.ok(diff.commonCount > 0.9 * a.nodeCount, `most objects matched by id (${diff.commonCount} of ${a.nodeCount})`);
  void marker;
});

t.test('v8 backend', async (t) => {
  const v8File = await writeHeapSnapshot({ dir, backend: 'v8', filename: 'v8.heapsnapshot' });
  t.equal(v8File, join(dir, 'v8.heapsnapshot'));
  t.ok((await loadHeapSnapshot(v8File)).nodeCount > 1000);
});

const heapdumpMissing = nativeAddonUnavailable('heapdump');

t.test('the optional heapdump backend writes a snapshot that loads', { skip: heapdumpMissing }, async (t) => {
  const file = await writeHeapSnapshot({ dir, backend: 'heapdump', filename: 'native.heapsnapshot' });
  t.ok((await loadHeapSnapshot(file)).nodeCount > 1000, 'its snapshot loads');
});

t.test(
  'heapdump unavailable: a typed error, nothing written',
  { skip: !heapdumpMissing && 'heapdump loads on this Node line' },
  async (t) => {
    await t.rejects(writeHeapSnapshot({ dir, backend: 'heapdump', filename: 'missing.heapsnapshot' }), {
      code: 'ERR_HEAP_BACKEND_UNAVAILABLE',
    });
    t.notOk(readdirSync(dir).includes('missing.heapsnapshot'));
  },
);

t.test('refuses to start without enough free disk space, writing nothing', async (t) => {
  const empty = mkdtempSync(join(dir, 'full-'));
  const err = await writeHeapSnapshot({ dir: empty, minFreeBytes: Number.MAX_SAFE_INTEGER }).catch((e: unknown) => e);
  t.ok(err instanceof InsufficientDiskSpaceError);
  t.equal((err as InsufficientDiskSpaceError).code, 'ERR_INSUFFICIENT_DISK_SPACE');
  t.ok((err as InsufficientDiskSpaceError).availableBytes > 0);
  t.equal((err as InsufficientDiskSpaceError).requiredBytes, Number.MAX_SAFE_INTEGER);
  t.same(readdirSync(empty), []);
});

t.test('write failures are typed and leave no partial file', async (t) => {
  const existing = join(dir, 'taken.heapsnapshot');
  writeFileSync(existing, 'keep me');
  await t.rejects(writeHeapSnapshot({ dir, filename: 'taken.heapsnapshot' }), HeapSnapshotCaptureError);
  t.equal(readFileSync(existing, 'utf8'), 'keep me', 'an existing file is never overwritten');
  await t.rejects(writeHeapSnapshot({ dir: join(dir, 'no', 'such', 'dir') }), { code: 'ERR_HEAP_SNAPSHOT_CAPTURE' });
});

t.test('validates options', async (t) => {
  await t.rejects(writeHeapSnapshot({ dir: 3 as never }), InvalidOptionError);
  await t.rejects(writeHeapSnapshot({ backend: 'gdb' as never }), { code: 'ERR_INVALID_OPTION', option: 'backend' });
  await t.rejects(writeHeapSnapshot({ filename: '../escape.heapsnapshot' }), {
    code: 'ERR_INVALID_OPTION',
    option: 'filename',
  });
  await t.rejects(writeHeapSnapshot({ onProgress: 'yes' as never }), {
    code: 'ERR_INVALID_OPTION',
    option: 'onProgress',
  });
  await t.rejects(writeHeapSnapshot({ minFreeBytes: -1 }), { code: 'ERR_INVALID_OPTION', option: 'minFreeBytes' });
  await t.rejects(writeHeapSnapshot('dir' as never), { code: 'ERR_INVALID_OPTION', option: 'options' });
});
