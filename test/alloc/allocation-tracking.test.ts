// tracemalloc parity on V8's sampling heap profiler: a known allocating line must top compareTo.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import t from 'tap';
import { AllocationTrackingNotStartedError, ProfilerBusyError } from '../../lib/alloc/errors.js';
import { AllocationFilter } from '../../lib/alloc/filter.js';
import { AllocationSnapshot, formatStatistic } from '../../lib/alloc/snapshot.js';
import {
  getTracedMemory,
  isTrackingAllocations,
  resetTracedMemoryPeak,
  startAllocationTracking,
  stopAllocationTracking,
  takeAllocationSnapshot,
} from '../../lib/alloc/tracking.js';
import { allocateGarbage, allocateRetained, allocateStrings, other, retained } from './fixtures/allocators.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const fixture = fileURLToPath(new URL('./fixtures/allocators.ts', import.meta.url));
const tsLine = (needle: string) =>
  readFileSync(fixture, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;
const dir = mkdtempSync(join(tmpdir(), 'hangwatch-alloc-'));
t.teardown(() => {
  stopAllocationTracking();
  rmSync(dir, { recursive: true, force: true });
});

t.test('not tracking: snapshot throws, traced memory is zero', async (t) => {
  t.equal(isTrackingAllocations(), false);
  t.throws(() => takeAllocationSnapshot(), AllocationTrackingNotStartedError);
  t.throws(() => takeAllocationSnapshot(), { code: 'ERR_ALLOCATION_TRACKING_NOT_STARTED' });
  t.same(getTracedMemory(), { current: 0, peak: 0 });
  t.doesNotThrow(() => stopAllocationTracking(), 'stop when not tracking is a no-op');
});

t.test('a known allocating line tops compareTo, and statistics agree', async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 4096 });
  t.teardown(stopAllocationTracking);
  t.equal(isTrackingAllocations(), true);
  const before = takeAllocationSnapshot();
  allocateStrings(2_000);
  allocateRetained(20_000); // ~11 MB live
  const after = takeAllocationSnapshot();

  const line = tsLine('export function allocateRetained');
  const diff = after.compareTo(before, 'line');
  t.equal(diff[0]!.key, `${fixture}:${line}`, 'the allocating function tops the diff');
  t.ok(diff[0]!.sizeDiff > 5_000_000, `size diff ${diff[0]!.sizeDiff} > 5 MB`);
  t.ok(diff[0]!.countDiff > 100, 'count diff in samples');
  t.equal(diff[0]!.frames[0]!.functionName, 'allocateRetained');
  t.ok(diff[0]!.frames[0]!.generated, 'line is source-mapped from the compiled JS');
  t.ok(
    diff.every((d, i) => i === 0 || Math.abs(d.sizeDiff) <= Math.abs(diff[i - 1]!.sizeDiff)),
    'sorted by absolute size diff',
  );
  t.ok(
    diff.some((d) => d.key === `${fixture}:${tsLine('export function allocateStrings')}`),
    'the other allocator is in the diff too',
  );

  const byFn = after.statistics('function');
  t.equal(byFn[0]!.key, `allocateRetained (${fixture}:${line})`);
  t.ok(
    byFn.every((s, i) => i === 0 || s.size <= byFn[i - 1]!.size),
    'statistics sorted by size',
  );
  t.equal(after.statistics('file')[0]!.key, fixture);
  const stack = after.statistics('stack')[0]!;
  t.equal(stack.frames[0]!.functionName, 'allocateRetained');
  t.ok(
    stack.frames.some((f) => f.file.endsWith('allocation-tracking.test.ts')),
    'the caller is on the stack',
  );
  const cumulative = after.statistics('function', { cumulative: true });
  const testFn = cumulative.find((s) => s.frames[0]!.file.endsWith('allocation-tracking.test.ts'))!;
  t.ok(testFn.size >= byFn[0]!.size, 'cumulative: the calling test function holds at least the allocator bytes');
  t.throws(() => after.statistics('stack', { cumulative: true }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => after.statistics('bogus' as never), { code: 'ERR_INVALID_OPTION' });
  t.match(
    formatStatistic(diff[0]!),
    /allocators\.ts:\d+ \(allocateRetained\): size=\d+\.\d MiB \(\+\d+\.\d MiB\), count=\d+ \(\+\d+\), average=/,
  );

  // freeing shows up as a negative diff: the sampler only reports live objects
  retained.length = 0;
  gc();
  const freed = takeAllocationSnapshot().compareTo(after, 'line');
  const gone = freed.find((d) => d.key === `${fixture}:${line}`)!;
  t.ok(gone.sizeDiff < -5_000_000, `freed bytes show as ${gone.sizeDiff}`);
  t.equal(freed[0]!.key, gone.key, 'and top the diff');
});

t.test("hangwatch's own allocations (inspector replies, source-map cache) are left out", async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 512 });
  t.teardown(() => {
    stopAllocationTracking();
    retained.length = 0;
  });
  allocateRetained(2_000);
  for (let i = 0; i < 3; i++) takeAllocationSnapshot(); // each reply and mapping allocates
  const snap = takeAllocationSnapshot();
  const ownRoots = [
    fileURLToPath(new URL('../../lib/', import.meta.url)),
    fileURLToPath(new URL('../../native-free-fallbacks/', import.meta.url)),
  ];
  const firstUserFrame = (frames: { file: string }[]) => frames.find((f) => f.file && !f.file.startsWith('node:'));
  const own = snap.traces.filter((tr) => ownRoots.some((r) => firstUserFrame(tr.frames)?.file.startsWith(r)));
  t.same(own, [], 'no trace whose most recent non-Node frame is hangwatch');
  t.notOk(
    snap.statistics('line').some((s) => s.key.startsWith('node:inspector')),
    'no inspector dispatch rows',
  );
  t.ok(
    snap.statistics('function').some((s) => s.frames[0]!.functionName === 'allocateRetained'),
    'user allocations remain',
  );
});

t.test('traced memory: current follows live bytes, peak stays', async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 4096, peakPollIntervalMs: 0 });
  t.teardown(stopAllocationTracking);
  const start = getTracedMemory();
  allocateRetained(20_000);
  const grown = getTracedMemory();
  t.ok(grown.current - start.current > 5_000_000, 'current grew');
  t.ok(grown.peak >= grown.current);
  retained.length = 0;
  gc();
  const shrunk = getTracedMemory();
  t.ok(shrunk.current < grown.current - 5_000_000, 'current dropped after GC');
  t.equal(shrunk.peak, grown.peak, 'peak remembered');
  resetTracedMemoryPeak();
  t.equal(getTracedMemory().peak < grown.peak, true, 'reset peak');
});

t.test('filters like tracemalloc.Filter', async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 4096 });
  t.teardown(() => {
    stopAllocationTracking();
    retained.length = 0;
    other.length = 0;
  });
  allocateRetained(10_000);
  allocateStrings(5_000);
  const snap = takeAllocationSnapshot();
  const keys = (s: AllocationSnapshot) => new Set(s.statistics('line').map((x) => x.key));
  const retainedKey = `${fixture}:${tsLine('export function allocateRetained')}`;
  const stringsKey = `${fixture}:${tsLine('export function allocateStrings')}`;
  t.ok(keys(snap).has(retainedKey) && keys(snap).has(stringsKey));
  const onlyFixture = snap.filterTraces([new AllocationFilter(true, '*/allocators.ts')]);
  t.ok(
    [...keys(onlyFixture)].every((k) => k.startsWith(fixture)),
    'inclusive keeps only matching files',
  );
  const noRetained = snap.filterTraces([
    new AllocationFilter(false, fixture, tsLine('export function allocateRetained')),
  ]);
  t.notOk(keys(noRetained).has(retainedKey), 'exclusive with lineno drops that line');
  t.ok(keys(noRetained).has(stringsKey), 'and keeps the rest of the file');
  const viaCaller = snap.filterTraces([
    { inclusive: true, filenamePattern: '*allocation-tracking.test.ts', allFrames: true },
  ]);
  t.ok(keys(viaCaller).has(retainedKey), 'allFrames matches a caller frame');
  const topOnly = snap.filterTraces([{ inclusive: true, filenamePattern: '*allocation-tracking.test.ts' }]);
  t.notOk(keys(topOnly).has(retainedKey), 'without allFrames only the most recent frame counts');
  t.throws(() => snap.filterTraces([{ inclusive: 'yes' as never, filenamePattern: '*' }]), {
    code: 'ERR_INVALID_OPTION',
  });
  t.throws(() => new AllocationFilter(true, '*', 0), { code: 'ERR_INVALID_OPTION' });
});

t.test('pprof export, dump and load', async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 8192 });
  t.teardown(() => {
    stopAllocationTracking();
    retained.length = 0;
  });
  allocateRetained(10_000);
  const snap = takeAllocationSnapshot();
  const p = Profile.decode(gunzipSync(snap.toPprof()));
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]!;
  t.same(
    p.sampleType.map((s) => `${str(s.type)}/${str(s.unit)}`),
    ['objects/count', 'space/bytes'],
  );
  t.equal(Number(p.period), 8192);
  t.equal(
    p.sample.reduce((a, s) => a + Number(s.value[1]), 0),
    snap.totalSize,
    'bytes add up',
  );
  t.equal(
    p.sample.reduce((a, s) => a + Number(s.value[0]), 0),
    snap.totalCount,
  );
  const fn = p.function.find((f) => str(f.name) === 'allocateRetained')!;
  t.equal(Number(fn.startLine), tsLine('export function allocateRetained'));

  const html = snap.toFlameGraphHtml();
  t.match(html, /allocateRetained/);
  const data = JSON.parse(/var root=(\{.*?\}), UNIT="bytes"/s.exec(html)![1]!) as { v: number };
  t.equal(data.v, snap.totalSize, 'flame graph root = traced bytes');

  const file = join(dir, 'snap.json');
  snap.dump(file);
  const loaded = AllocationSnapshot.load(file);
  t.same(loaded.statistics('line'), snap.statistics('line'));
  t.same(loaded.compareTo(snap, 'line')[0]!.sizeDiff, 0);
  t.throws(() => AllocationSnapshot.load(join(dir, 'missing.json')), { code: 'ERR_INVALID_ALLOCATION_SNAPSHOT' });
  t.throws(() => AllocationSnapshot.fromJSON({ format: 'x' }), { code: 'ERR_INVALID_ALLOCATION_SNAPSHOT' });
});

t.test('stackDepth, includeCollected, restart rules, validation', async (t) => {
  startAllocationTracking({ samplingIntervalBytes: 4096, stackDepth: 1 });
  allocateRetained(2_000);
  t.ok(
    takeAllocationSnapshot().traces.every((tr) => tr.frames.length === 1),
    'stackDepth 1 keeps the most recent frame only',
  );
  t.doesNotThrow(() => startAllocationTracking({ samplingIntervalBytes: 4096, stackDepth: 1 }), 'same options: no-op');
  t.throws(() => startAllocationTracking({ samplingIntervalBytes: 1024 }), ProfilerBusyError);
  stopAllocationTracking();
  retained.length = 0;

  startAllocationTracking({ samplingIntervalBytes: 4096, includeCollected: true });
  allocateGarbage(50_000);
  other.length = 0;
  gc();
  const garbage = takeAllocationSnapshot()
    .statistics('function')
    .find((s) => s.frames[0]!.functionName === 'allocateGarbage');
  t.ok(garbage && garbage.size > 1_000_000, 'collected allocations are still reported with includeCollected');
  stopAllocationTracking();

  for (const bad of [
    { samplingIntervalBytes: 0 },
    { stackDepth: 0 },
    { stackDepth: 129 },
    { includeCollected: 1 },
    { peakPollIntervalMs: -1 },
    'x',
  ]) {
    t.throws(() => startAllocationTracking(bad as never), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(bad));
  }
  t.equal(isTrackingAllocations(), false);
});

t.test('a worker thread tracks its own allocations', async (t) => {
  const { Worker } = await import('node:worker_threads');
  const entry = new URL('./fixtures/track-in-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const worker = new Worker(
    `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true },
  );
  const top = await new Promise<Array<{ key: string; sizeDiff: number }>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.match(top[0]!.key, /^allocateRetained \(.*allocators\.ts:\d+\)$/);
  t.ok(top[0]!.sizeDiff > 2_000_000);
  t.equal(isTrackingAllocations(), false, 'the main thread was not tracking');
});
