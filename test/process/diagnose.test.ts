import t from 'tap';
import { lowerEnvelope } from '../../lib/process/heap-trend.js';
import { diagnose, DEFAULT_THRESHOLDS } from '../../lib/process/diagnose.js';
import { programBlocks, topBlockingStacks } from '../../lib/process/diagnosis/blocking.js';
import { sustainedGrowth } from '../../lib/process/diagnosis/series.js';
import { formatFrame } from '../../lib/capture/stack-frame.js';
import { InvalidOptionError } from '../../lib/errors.js';
import type { BlockEvent } from '../../lib/loop/index.js';
import { blockEvent, delay, series } from './synthetic-samples.js';

const kinds = (samples: Parameters<typeof diagnose>[0], opts?: Parameters<typeof diagnose>[1]) =>
  diagnose(samples, opts).findings.map((f) => f.kind);

t.test('an ordinary series is healthy', async (t) => {
  const d = diagnose(series(40));
  t.same(
    d.findings.map((f) => f.kind),
    ['healthy'],
  );
  t.equal(d.healthy, true);
  t.equal(d.schema, 'hangwatch.diagnosis');
  t.equal(d.summary.sampleCount, 40);
  t.equal(d.summary.gcCount, 80);
});

t.test('no samples: healthy finding that says nothing can be said', async (t) => {
  const d = diagnose([]);
  t.equal(d.findings[0]?.title, 'No samples');
});

t.test('event-loop blocking from the delay series, with time ranges', async (t) => {
  const s = series(40, (i) =>
    i >= 10 && i < 20 ? { loopDelay: delay(250), loopUtilization: 0.98, cpuPercent: 97 } : {},
  );
  const d = diagnose(s);
  const f = d.findings.find((x) => x.kind === 'event-loop-blocking');
  t.ok(f, 'blocking found');
  t.equal(f?.severity, 'critical', '25% of intervals blocked is critical');
  t.same(f?.ranges, [{ fromMs: 2500, toMs: 5000 }]);
  t.match(f?.evidence.find((e) => e.label === 'longest event-loop delay')?.value, /250 ms/);
  t.notOk(d.healthy);
});

t.test('one short blocked interval is not blocking; one very long one is', async (t) => {
  t.same(kinds(series(40, (i) => (i === 5 ? { loopDelay: delay(150) } : {}))), ['healthy']);
  t.ok(
    kinds(
      series(40, (i) => (i === 5 ? { loopDelay: delay(1500), intervalMs: 1750, loopUtilization: 0.9 } : {})),
    ).includes('event-loop-blocking'),
  );
});

t.test('long delays while the loop was idle (CPU starvation by other processes) are not blocking', async (t) => {
  const starved = series(40, (i) =>
    i % 4 === 0 ? { loopDelay: delay(180), loopUtilization: 0.1, cpuPercent: 3 } : {},
  );
  t.same(kinds(starved), ['healthy']);
  // The block recorded one interval late: the busy time is in the interval before.
  const late = series(40, (i) =>
    i % 4 === 0 ? { loopUtilization: 0.95 } : i % 4 === 1 ? { loopDelay: delay(200), loopUtilization: 0.05 } : {},
  );
  t.ok(kinds(late).includes('event-loop-blocking'));
});

t.test('block events are grouped into top blocking stacks by their hottest application frame', async (t) => {
  const frame = (fn: string, line: number) => ({ functionName: fn, file: '/app/server.js', line, column: 3 });
  const ev = (id: number, ms: number, top: ReturnType<typeof frame>): BlockEvent =>
    blockEvent({
      id,
      durationMs: ms,
      stack: [{ functionName: 'readSync', file: 'node:fs', line: 1, column: 1 }, top, frame('handler', 40)],
      hotFrames: [{ frame: top, ratio: 1, samples: 1 }],
    });
  const blocks = [ev(1, 120, frame('hash', 10)), ev(2, 300, frame('hash', 10)), ev(3, 200, frame('render', 20))];
  const top = topBlockingStacks(blocks);
  t.equal(top.length, 2);
  t.equal(top[0]?.count, 2);
  t.equal(top[0]?.totalMs, 420);
  t.equal(top[0]?.maxMs, 300);
  t.equal(top[0]?.frames[1]?.functionName, 'hash');
  const d = diagnose(
    series(20, (i) => (i % 2 ? { loopDelay: delay(300), loopUtilization: 0.9, intervalMs: 400 } : {})),
    { blocks },
  );
  const f = d.findings.find((x) => x.kind === 'event-loop-blocking');
  t.equal(f?.blockingStacks?.length, 2);
  t.match(f?.nextStep, /hash \(\/app\/server\.js:10\)/, 'next step names the hottest application frame');
});

t.test('I/O wait: idle CPU and loop while operations are in flight', async (t) => {
  const io = series(30, () => ({
    cpuPercent: 4,
    loopUtilization: 0.05,
    pendingOperations: 20,
    handlesByType: { TCPSocketWrap: 20, Timeout: 20 },
  }));
  const d = diagnose(io);
  t.same(
    d.findings.map((f) => f.kind),
    ['io-wait'],
  );
  t.match(d.findings[0]?.evidence.find((e) => e.label.startsWith('active handles'))?.value, /Timeout ×20/);
  // The same idle process with nothing in flight is just idle.
  t.same(kinds(series(30, () => ({ cpuPercent: 4, loopUtilization: 0.05, pendingOperations: 0 }))), ['healthy']);
  // Busy with the same operations in flight is not waiting.
  t.same(kinds(series(30, () => ({ cpuPercent: 80, loopUtilization: 0.8, pendingOperations: 20 }))), ['healthy']);
});

t.test('GC pressure: share of wall time in pauses', async (t) => {
  const d = diagnose(series(20, () => ({ gc: { count: 30, majorCount: 2, pauseMs: 50, maxPauseMs: 12 } })));
  const f = d.findings.find((x) => x.kind === 'gc-pressure');
  t.ok(f);
  t.match(f?.evidence[0]?.value, /20%/);
  t.same(
    kinds(series(20, () => ({ gc: { count: 5, majorCount: 0, pauseMs: 10, maxPauseMs: 3 } }))),
    ['healthy'],
    '4% is not pressure',
  );
});

t.test('memory leak: the lower envelope rises steadily', async (t) => {
  const leak = series(40, (i) => ({ heapUsedBytes: 20e6 + i * 1.5e6 + (i % 3) * 4e6 }));
  const d = diagnose(leak, {
    growingConstructors: [
      { name: 'Small', countDelta: 10, sizeDeltaBytes: 10 },
      { name: 'SessionRecord', countDelta: 500, sizeDeltaBytes: 32e6 },
    ],
  });
  const f = d.findings.find((x) => x.kind === 'memory-leak');
  t.ok(f, 'leak found');
  t.equal(f?.growingConstructors?.[0]?.name, 'SessionRecord', 'largest growth first');
  // With retained sizes, a small record class that holds the payloads ranks above the payloads' own growth.
  const r = diagnose(leak, {
    growingConstructors: [
      { name: '(string)', countDelta: 500, sizeDeltaBytes: 32e6, retainedBytes: 32e6 },
      { name: 'SessionRecord', countDelta: 500, sizeDeltaBytes: 20e3, retainedBytes: 32.1e6 },
      { name: '(array)', countDelta: 90, sizeDeltaBytes: 90e3, retainedBytes: 90e3 },
      // A new closure context that reaches the whole cache retains more than any record: V8's own kind, after.
      { name: 'system / Context', countDelta: 3, sizeDeltaBytes: 232, retainedBytes: 64e6 },
      { name: 'Small', countDelta: 2, sizeDeltaBytes: 64, retainedBytes: 64 },
    ],
  });
  t.same(
    r.findings.find((x) => x.kind === 'memory-leak')?.growingConstructors?.map((c) => c.name),
    ['SessionRecord', 'Small', 'system / Context', '(string)', '(array)'],
    "the program's classes first, each group most retained first",
  );
  // The same growth followed by a fall (a cache that is flushed) is not a leak.
  const flushed = series(40, (i) => ({ heapUsedBytes: i < 30 ? 20e6 + i * 1.5e6 : 20e6 }));
  t.notOk(kinds(flushed).includes('memory-leak'));
  // Too few samples: not judged.
  t.notOk(kinds(leak.slice(0, 5)).includes('memory-leak'));
});

t.test('lower envelope picks the minimum of each window', async (t) => {
  const env = lowerEnvelope(
    series(9, (i) => ({ heapUsedBytes: [5, 1, 9, 7, 3, 8, 6, 6, 2][i] as number })),
    (s) => s.heapUsedBytes,
  );
  t.same(
    env.map((p) => p.value),
    [1, 3, 2],
  );
});

t.test('sustainedGrowth: monotonic and still rising late', async (t) => {
  const env = (...v: number[]) => v.map((value) => ({ value }));
  t.equal(
    sustainedGrowth(env(10, 20, 30, 40, 50, 60), () => 0),
    50,
  );
  t.equal(
    sustainedGrowth(env(3, 40, 40, 40, 40, 40), () => 0),
    0,
    'a step then flat',
  );
  t.equal(
    sustainedGrowth(env(10, 20, 15, 40), () => 1),
    0,
    'a fall beyond the tolerance',
  );
  t.equal(
    sustainedGrowth(env(10, 20, 19.5, 40), () => 1),
    30,
    'a dip within the tolerance',
  );
});

t.test('handle leak: active handles keep rising', async (t) => {
  const s = series(40, (i) => ({
    activeHandles: 12 + i * 2,
    handlesByType: { TCPServerWrap: 1, TCPSocketWrap: 10 + i * 2 },
  }));
  const f = diagnose(s).findings.find((x) => x.kind === 'handle-leak');
  t.ok(f);
  t.match(f?.evidence.find((e) => e.label === 'types that grew')?.value, /TCPSocketWrap \+78/);
});

t.test('a ramp-up at the start is not a leak (memory or handles)', async (t) => {
  const ramp = series(40, (i) =>
    i < 5
      ? {}
      : { heapUsedBytes: 60e6 + (i % 3) * 2e6, activeHandles: 52, handlesByType: { TCPSocketWrap: 40, Timeout: 12 } },
  );
  t.same(kinds(ramp), ['healthy']);
});

t.test('thresholds can be overridden and are validated', async (t) => {
  const s = series(40, (i) => (i % 4 === 0 ? { loopDelay: delay(60) } : {}));
  t.same(kinds(s), ['healthy']);
  t.ok(kinds(s, { thresholds: { blockDelayMs: 50 } }).includes('event-loop-blocking'));
  t.equal(
    diagnose(s, { thresholds: { blockDelayMs: 50 } }).thresholds.ioMinPendingOperations,
    DEFAULT_THRESHOLDS.ioMinPendingOperations,
  );
  t.throws(() => diagnose(s, { thresholds: { blockDelayMs: -1 } }), InvalidOptionError);
  t.throws(() => diagnose(s, { thresholds: { nope: 1 } as never }), InvalidOptionError);
  t.throws(() => diagnose('x' as never), InvalidOptionError);
  t.throws(() => diagnose([{}] as never), InvalidOptionError);
});

t.test("hangwatch's own pauses are never the program's blocking, and are listed apart", async (t) => {
  const frame = { functionName: '(anonymous)', file: 'node:inspector', line: 66, column: 67 };
  const own = blockEvent({
    id: 1,
    durationMs: 1830,
    stack: [frame],
    hotFrames: [{ frame, ratio: 1, samples: 1 }],
    hangwatchPause: { reason: 'heap-snapshot', ms: 1800 },
  });
  const d = diagnose(series(40), {
    blocks: [own],
    hangwatchPauses: [{ reason: 'heap-snapshot', atMs: 2500, durationMs: 1800 }],
  });
  t.same(
    d.findings.map((f) => f.kind),
    ['healthy'],
    'no blocking blamed on the program',
  );
  t.equal(d.summary.blockEvents, 0);
  t.equal(d.summary.hangwatchPauseMs, 1800);
  t.equal(d.hangwatchPauses[0]?.text, 'hangwatch paused the program for 1.8 s to take a heap snapshot (at 2.5 s)');
  // A block that was partly the program's keeps the program's part.
  const mixed = { ...own, durationMs: 2300 };
  const blocked = series(40, (i) =>
    i === 10 ? { loopDelay: delay(1200), intervalMs: 1450, loopUtilization: 0.95 } : {},
  );
  const f = diagnose(blocked, { blocks: [mixed] }).findings.find((x) => x.kind === 'event-loop-blocking');
  t.equal(f?.blockingStacks?.[0]?.totalMs, 500);
  // Many probes of one reason: one line.
  const probes = Array.from({ length: 6 }, (_, i) => ({
    reason: 'live-heap-probe' as const,
    atMs: 1000 * i,
    durationMs: 30,
  }));
  const notes = diagnose(series(40), { hangwatchPauses: probes }).hangwatchPauses;
  t.equal(notes.length, 1);
  t.match(notes[0]?.text, /paused the program 6 times, 180 ms in all \(longest 30\.0 ms\), to measure the live heap/);
});

t.test('blocking stacks that show the same frames are one stack', async (t) => {
  const f = (fn: string, line: number) => ({ functionName: fn, file: '/app/server.js', line, column: 3 });
  const visible = [f('parse', 1), f('load', 2), f('handler', 3)];
  // Two key frames (hot frames deeper than what is shown), one visible stack.
  const ev = (id: number, ms: number, hot: ReturnType<typeof f>): BlockEvent =>
    blockEvent({
      id,
      durationMs: ms,
      stack: [...visible, ...Array.from({ length: 8 }, (_, i) => f(`deep${i}`, 10 + i)), hot],
      hotFrames: [{ frame: hot, ratio: 1, samples: 1 }],
    });
  const top = topBlockingStacks([ev(1, 200, f('a', 50)), ev(2, 300, f('b', 60)), ev(3, 150, f('c', 70))]);
  t.equal(top.length, 1, 'one stack, not three that read the same');
  t.equal(top[0]?.count, 3);
  t.equal(top[0]?.totalMs, 650);
  t.equal(top[0]?.maxMs, 300);
});

t.test('growing constructors are in the diagnosis whatever the findings, most retained first', async (t) => {
  const d = diagnose(series(40), {
    growingConstructors: [
      { name: 'A', countDelta: 1, sizeDeltaBytes: 10 },
      { name: 'B', countDelta: 5, sizeDeltaBytes: 50, retainedBytes: 5000 },
    ],
  });
  t.same(
    d.findings.map((f) => f.kind),
    ['healthy'],
  );
  t.same(
    d.growingConstructors?.map((c) => c.name),
    ['B', 'A'],
  );
});

t.test("a blocking stack is shown from a block whose stack has the group's frame", async (t) => {
  const f = (fn: string, line: number) => ({ functionName: fn, file: '/app/server.js', line, column: 3 });
  const hot = f('expensiveSyncWork', 9);
  const ev = (id: number, ms: number, stack: ReturnType<typeof f>[]): BlockEvent =>
    blockEvent({ id, durationMs: ms, stack, hotFrames: [{ frame: hot, ratio: 1, samples: 3 }] });
  // The longest block's first stack was taken after the hot function had returned.
  const top = topBlockingStacks([ev(1, 300, [hot, f('handler', 15)]), ev(2, 600, [f('handler', 16)])]);
  t.equal(top.length, 1);
  t.equal(top[0]?.frames[0]?.functionName, 'expensiveSyncWork');
  t.equal(top[0]?.maxMs, 600);
  t.equal(top[0]?.totalMs, 900);
});

t.test(
  "a block whose stack caught hangwatch at work during its pause is hangwatch's; hangwatch's frames are never the key",
  async (t) => {
    const probe = {
      functionName: 'probe',
      file: `${process.cwd()}/lib/process/live-heap-probe.ts`,
      line: 30,
      column: 7,
    };
    const app = { functionName: 'handler', file: '/app/server.js', line: 15, column: 3 };
    const ev = (id: number, stack: (typeof app)[], pause?: number): BlockEvent =>
      blockEvent({
        id,
        durationMs: 600,
        stack,
        hotFrames: stack.map((frame) => ({ frame, ratio: 1, samples: 1 })),
        ...(pause ? { hangwatchPause: { reason: 'live-heap-probe' as const, ms: pause } } : {}),
      });
    t.same(
      programBlocks([
        ev(1, [{ functionName: 'getHeapStatistics', file: 'node:v8', line: 178, column: 1 }, probe, app], 300),
      ]),
      [],
      'dropped',
    );
    const top = topBlockingStacks([ev(2, [probe, app])]);
    t.equal(formatFrame(top[0]!.frames.find((f) => f.functionName === 'handler')!), 'handler (/app/server.js:15:3)');
    t.equal(top.length, 1);
  },
);

t.test("delays whose block events all say the process was starved are not the program's blocking", async (t) => {
  const epoch = Date.parse('2026-11-30T06:00:00.000Z');
  // Three intervals of 250 ms with a 600 ms delay each and a busy loop (a loaded server on a starved machine).
  const long = new Set([8, 16, 24]);
  const samples = series(40, (i) =>
    long.has(i) ? { loopDelay: delay(600), intervalMs: 850, loopUtilization: 0.9 } : {},
  );
  const frame = { functionName: 'handler', file: '/app/server.js', line: 3, column: 1 };
  const event = (i: number, cause: BlockEvent['cause']): BlockEvent =>
    blockEvent({
      id: i,
      startedAt: new Date(epoch + (i + 1) * 250 - 200).toISOString(),
      durationMs: 600,
      cause,
      cpuMs: cause === 'starved' ? 20 : 590,
      stack: [frame],
      hotFrames: [{ frame, ratio: 1, samples: 1 }],
    });
  const starved = [...long].map((i) => event(i, 'starved'));
  t.ok(kinds(samples).includes('event-loop-blocking'), 'without block events the delay rule alone calls it blocking');
  t.ok(
    kinds(samples, { blocks: starved }).includes('event-loop-blocking'),
    "without the samples' epoch the events cannot be placed: the delay rule",
  );
  t.notOk(
    kinds(samples, { blocks: starved, samplesEpochMs: epoch }).includes('event-loop-blocking'),
    'every long delay was a starved block: not blocking',
  );
  // One of them really was the program's: its interval counts again (and only its stack is shown).
  const mixed = [event(8, 'blocked'), ...starved.slice(1)];
  const f = diagnose(samples, {
    blocks: mixed,
    samplesEpochMs: epoch,
    thresholds: { blockMinIntervals: 1, blockMinShare: 0 },
  }).findings.find((x) => x.kind === 'event-loop-blocking');
  t.ok(f, 'the blocked interval is still found');
  t.equal(f?.blockingStacks?.[0]?.count, 1, "the starved blocks' stacks are not evidence");
  t.throws(() => diagnose(samples, { samplesEpochMs: -1 }), { code: 'ERR_INVALID_OPTION' });
});

t.test(
  'synchronous I/O after start-up: a finding with its call sites, costliest first; a few cheap calls are listed, not a finding',
  async (t) => {
    const frame = (functionName: string, line: number) => ({ functionName, file: '/app/server.js', line, column: 5 });
    const report = (
      sites: { call: string; count: number; totalMs: number; maxMs: number; line: number; via?: boolean }[],
    ) => ({
      schema: 'hangwatch.sync-io' as const,
      schemaVersion: 1 as const,
      pid: 1,
      since: '',
      at: '',
      totalCalls: sites.reduce((a, s) => a + s.count, 0),
      totalMs: sites.reduce((a, s) => a + s.totalMs, 0),
      sites: sites.map((s) => ({
        call: s.call,
        caller: frame('handler', s.line),
        count: s.count,
        totalMs: s.totalMs,
        maxMs: s.maxMs,
        ...(s.via ? { via: frame('route', 99) } : {}),
      })),
    });
    const s = series(40);
    const many = report([
      { call: 'fs.readFileSync', count: 200, totalMs: 40, maxMs: 2, line: 12 },
      { call: 'zlib.gzipSync', count: 200, totalMs: 300, maxMs: 5, line: 20, via: true },
    ]);
    const d = diagnose(s, { syncIo: many });
    const f = d.findings.find((x) => x.kind === 'sync-io');
    t.ok(f, 'sync I/O found');
    t.equal(f?.severity, 'warning', '340 ms of a 10 s run');
    t.same(
      f?.syncIoSites?.map((x) => x.call),
      ['zlib.gzipSync', 'fs.readFileSync'],
      'costliest first, whatever the order given',
    );
    t.match(f?.summary, /400 synchronous I\/O call\(s\).*zlib\.gzipSync in handler \(\/app\/server\.js:20\)/);
    t.match(
      f?.evidence.find((e) => e.label === 'costliest call site')?.value,
      /called from route \(\/app\/server\.js:99\)/,
    );
    t.match(f?.nextStep, /zlib\.gzipSync in handler \(\/app\/server\.js:20\)/);
    t.notOk(d.healthy);
    t.equal(d.syncIo?.totalCalls, 400);

    t.equal(
      diagnose(s, { syncIo: report([{ call: 'fs.readFileSync', count: 200, totalMs: 2000, maxMs: 30, line: 12 }]) })
        .findings[0]?.severity,
      'critical',
      '20% of the run',
    );

    const few = diagnose(s, { syncIo: report([{ call: 'fs.statSync', count: 2, totalMs: 0.2, maxMs: 0.1, line: 3 }]) });
    t.same(
      few.findings.map((x) => x.kind),
      ['healthy'],
      'two cheap calls: no finding',
    );
    t.equal(few.syncIo?.sites[0]?.call, 'fs.statSync', 'but they are in the diagnosis');
    t.same(
      kinds(s, { syncIo: report([{ call: 'child_process.execSync', count: 1, totalMs: 50, maxMs: 50, line: 3 }]) }),
      ['sync-io'],
      'one costly call is one',
    );
    t.same(
      kinds(s, {
        syncIo: report([{ call: 'fs.statSync', count: 2, totalMs: 0.2, maxMs: 0.1, line: 3 }]),
        thresholds: { syncIoMinCalls: 2 },
      }),
      ['sync-io'],
      'threshold overridden',
    );
    t.same(kinds(s, { syncIo: report([]) }), ['healthy']);
    t.equal(diagnose(s).syncIo, undefined, 'not traced: nothing said');

    const sites = Array.from({ length: 14 }, (_, i) => ({
      call: 'fs.existsSync',
      count: 1,
      totalMs: i + 1,
      maxMs: i + 1,
      line: i + 1,
    }));
    const capped = diagnose(s, { syncIo: { ...report(sites), sitesOmitted: 3 } });
    t.equal(capped.syncIo?.sites.length, 10);
    t.equal(capped.syncIo?.sitesOmitted, 7, 'the 4 not kept and the 3 the report left out');
    t.match(capped.findings[0]?.evidence[0]?.value, /from 17 call site/);

    t.throws(() => diagnose(s, { syncIo: 'x' as never }), InvalidOptionError);
    t.throws(() => diagnose(s, { syncIo: { ...many, sites: 'x' } as never }), InvalidOptionError);
    t.throws(() => diagnose(s, { syncIo: { ...many, sites: [{}] } as never }), InvalidOptionError);
    t.throws(() => diagnose(s, { syncIo: { ...many, totalCalls: -1 } }), InvalidOptionError);
  },
);
