import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findLeaks, formatLeakPath } from '../../lib/heap/find-leaks.js';
import { looksGenerated } from '../../lib/heap/path-shape.js';
import { userPathStart } from '../../lib/heap/user-path.js';
import { diffHeapSnapshots } from '../../lib/heap/heap-diff.js';
import { loadHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import { InvalidOptionError } from '../../lib/errors.js';
import { runLeakyProgram } from './helpers/run-fixture.js';
import { parseHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import { buildSnapshot, root } from './helpers/build-snapshot.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'hangwatch-leaks-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function snapshots(mode: 'map' | 'emitter' | 'interval') {
  const d = join(dir, mode);
  mkdirSync(d);
  return runLeakyProgram(mode, d);
}

t.test('a growing Map cache: names LeakyObject and the path through the Map', async (t) => {
  const files = await snapshots('map');
  const report = await findLeaks(files);
  const c = report.clusters[0]!;
  t.ok(
    report.clusters.slice(1).every((x) => x.retainedSize < c.retainedSize / 20),
    'anything else is small noise',
  );
  t.equal(c.name, 'LeakyObject');
  t.equal(c.count, 200, 'the 200 objects of round one (round two was born after target)');
  t.match(c.pathText, /system \/ Context \(context cache\) \/ Map\.table \/ \(array\)\[\d+\] \/ LeakyObject$/);
  t.same(
    c.path.slice(-3).map((s) => s.name),
    ['Map', '(array)', 'LeakyObject'],
  );
  t.same(
    c.holds.map((h) => [h.className, h.count]),
    [['Array', 200]],
    'each holds its data array',
  );
  t.ok(
    c.retainedSize >= 200 * (c.selfSize / 200 + 32),
    `retained ${c.retainedSize} covers the objects and their arrays`,
  );
  t.notOk(
    report.clusters.some((x) => x.name === 'TransientThing'),
    'objects released before final are not leaks',
  );
  t.same(report.warnings, []);

  // the Comparison view on the same files
  const [baseline, target, final] = await Promise.all([
    loadHeapSnapshot(files.baseline),
    loadHeapSnapshot(files.target),
    loadHeapSnapshot(files.final),
  ]);
  const d1 = new Map(diffHeapSnapshots(baseline, target).classes.map((r) => [r.className, r]));
  t.equal(d1.get('LeakyObject')!.newCount, 200);
  t.equal(d1.get('LeakyObject')!.deletedCount, 0);
  t.equal(d1.get('TransientThing')!.newCount, 300);
  const d2 = new Map(diffHeapSnapshots(target, final).classes.map((r) => [r.className, r]));
  t.equal(d2.get('TransientThing')!.deletedCount, 300);
  t.equal(d2.get('TransientThing')!.countDelta, -300);
  t.equal(d2.get('LeakyObject')!.countDelta, 200);
  t.equal(final.nodesBy('LeakyObject').length, 400);
  // snapshots given as objects give the same report
  const again = await findLeaks({ baseline, target, final });
  t.same(
    again.clusters.map((x) => [x.name, x.count, x.retainedSize]),
    report.clusters.map((x) => [x.name, x.count, x.retainedSize]),
  );
});

t.test('listeners piling up on an EventEmitter', async (t) => {
  const report = await findLeaks(await snapshots('emitter'));
  const c = report.clusters[0]!;
  t.ok(c, 'found');
  t.match(c.pathText, /StreamHub\._events \/ Object\.data \/ Array$/, 'the listener array of the emitter');
  const holds = new Map(c.holds.map((h) => [h.className, h.count]));
  t.equal(holds.get('onData()'), 200, 'the listener closures, by function name');
  t.equal(holds.get('ListenerPayload'), 200, 'and what they close over');
  t.ok(
    report.clusters.every((x) => x.retainedSize <= c.retainedSize),
    'ranked by retained size',
  );
});

t.test('closures held by an interval', async (t) => {
  const report = await findLeaks(await snapshots('interval'));
  const c = report.clusters.find((x) => x.holds.some((h) => h.className === 'IntervalPayload'));
  t.ok(c, 'a cluster holds the payloads');
  t.match(c!.pathText, /timerListMap/, 'reached through the timers list');
  const holds = new Map(c!.holds.map((h) => [h.className, h.count]));
  t.equal(holds.get('IntervalPayload'), 50);
  t.equal(holds.get('tick()'), 50);
  t.equal(holds.get('Timeout'), 50);

  const loud = await findLeaks({ ...(await reuse('interval')), includeInternal: true });
  t.ok(loud.reportedCount > report.reportedCount, 'includeInternal reports V8 internals too');
  const quiet = await findLeaks({
    ...(await reuse('interval')),
    ignore: (n) => n.name === 'TimersList' || n.className === 'Timeout',
  });
  t.notOk(
    quiet.clusters.some((x) => x.className === 'TimersList' || x.className === 'Timeout'),
    'custom ignore filter',
  );
  const none = await findLeaks({ ...(await reuse('interval')), minRetainedSize: 1e12 });
  t.equal(none.clusters.length, 0);
  t.ok(none.droppedClusters > 0);
});

async function reuse(mode: string) {
  const d = join(dir, mode);
  return {
    baseline: join(d, 'baseline.heapsnapshot'),
    target: join(d, 'target.heapsnapshot'),
    final: join(d, 'final.heapsnapshot'),
  };
}

t.test('flags snapshots whose ids do not overlap (not one process)', async (t) => {
  const make = (ids: number[]) =>
    parseHeapSnapshot(
      buildSnapshot([
        root(ids.map((_, i) => ({ type: 'element' as const, name: i, to: i + 1 }))),
        ...ids.map((id) => ({ type: 'object', name: 'Thing', id, selfSize: 10 })),
      ]),
    );
  const ids = (from: number) => Array.from({ length: 20 }, (_, i) => from + 2 * i);
  const report = await findLeaks({ baseline: make(ids(3)), target: make(ids(103)), final: make(ids(103)) });
  t.match(report.warnings[0], /one process/);
  t.equal(report.clusters[0]!.name, 'Thing');
  t.equal(report.clusters[0]!.count, 20);
});

t.test('validates options', async (t) => {
  await t.rejects(findLeaks(undefined as never), InvalidOptionError);
  await t.rejects(findLeaks({ baseline: 'a', target: 'b' } as never), { code: 'ERR_INVALID_OPTION', option: 'final' });
  await t.rejects(findLeaks({ baseline: 'a', target: 'b', final: 'c', maxClusters: 0 }), {
    code: 'ERR_INVALID_OPTION',
    option: 'maxClusters',
  });
  await t.rejects(findLeaks({ baseline: join(dir, 'nope'), target: 'b', final: 'c' }), { code: 'ERR_SNAPSHOT_READ' });
});

t.test(
  'express-session MemoryStore: one cluster for the store, keyed by session id, sized by its strings',
  async (t) => {
    const d = join(dir, 'session-store');
    mkdirSync(d);
    await run(process.execPath, [join(process.cwd(), 'test/heap/fixtures/session-store-program.mjs'), d, '600'], {
      timeout: 180_000,
    });
    const report = await findLeaks({
      baseline: join(d, 'baseline.heapsnapshot'),
      target: join(d, 'target.heapsnapshot'),
      final: join(d, 'final.heapsnapshot'),
      maxClusters: 10_000,
    });
    const sessions = report.clusters.filter((c) => c.pathText.includes('MemoryStore.sessions'));
    t.equal(sessions.length, 1, `one cluster, not one per session id (${sessions.length})`);
    const c = sessions[0]!;
    t.equal(report.clusters[0], c, 'and the largest');
    t.equal(c.count, 600, 'the sessions of the target phase');
    t.ok(c.retainedSize >= 600 * 800, `retaining what the sessions hold (${c.retainedSize} bytes)`);
    t.match(c.shapeText, /MemoryStore\.sessions \/ Object\.<key> \/ \(string\)$/);
    t.match(
      c.pathText,
      /MemoryStore\.sessions \/ Object\.[\w-]{20,} \/ \(string\)$/,
      'the example path has a real session id',
    );
    t.ok(c.userPathStart > 0, 'the path starts past V8 and Node internals');
    const user = formatLeakPath(c.path, { from: c.userPathStart });
    t.match(user, /^… \/ /);
    t.notMatch(user, /\(GC roots\)|Node \/ |Global handles/, user);
    t.match(user, /MemoryStore\.sessions/);
  },
);

t.test('path shape: generated names and dictionaries collapse, hand-written names do not', async (t) => {
  t.ok(looksGenerated('ooWkpgb-B2iq9rpIqS2IpUXFgMYkir_z'));
  t.ok(looksGenerated('3f2c1a9e-7b1d-4c8e-9f00-0a1b2c3d4e5f'));
  t.notOk(looksGenerated('sessionCache'));
  t.notOk(looksGenerated('ERR_HTTP_HEADERS_SENT'));
  t.notOk(looksGenerated('user 1234567890 name'));
  // where the user's part of a path starts
  const step = (
    name: string,
    type: string,
    className: string,
    edge: { type: string; name: string | number } | null,
  ) => ({ name, type, className, edge });
  const path = [
    step('(GC roots)', 'synthetic', '(GC roots)', null),
    step('Node / Environment', 'native', 'Node / Environment', { type: 'element', name: 5 }),
    step('system / Context', 'hidden', 'system / Context', { type: 'internal', name: 'context' }),
    step('Map', 'object', 'Map', { type: 'context', name: 'sessionCache' }),
    step('SessionRecord', 'object', 'SessionRecord', { type: 'internal', name: 'table' }),
  ];
  t.equal(userPathStart(path), 2, 'the context holding the closure variable');
  t.equal(
    userPathStart([
      path[0]!,
      step('Server', 'object', 'Server', { type: 'element', name: 1 }),
      step('Cache', 'object', 'Cache', { type: 'property', name: 'x' }),
      path[4]!,
    ]),
    2,
    'a user class',
  );
  t.equal(userPathStart([path[0]!, path[4]!]), 0, 'nothing to skip');
});
