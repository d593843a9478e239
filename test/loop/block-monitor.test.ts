import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { monitorEventLoop, type BlockEvent, type LoopMonitor } from '../../lib/index.js';
import { renderBlockEventText } from '../../lib/report/index.js';
import {
  busyLoop,
  compressPayload,
  loadCatalog,
  makeBigJson,
  twoPhase,
  validateEmail,
} from '../fixtures/blocking-work.js';
import { join } from 'node:path';
import { fixture, root, runFixture, sleep, waitFor } from '../helpers.js';

const FIXTURE = fixture('blocking-work.ts');
const BUILT = join(root, 'dist', 'esm', 'lib', 'index.js');
const source = readFileSync(FIXTURE, 'utf8').split('\n');
const lineOf = (mark: string): number => source.findIndex((l) => l.includes(`// MARK:${mark}`)) + 1;

/**
 * Run `work` on a fresh macrotask and wait for the block event it causes: the first new event with
 * `fn` on its stack (a loaded machine can add stalls of its own), else the first new event.
 */
async function blockOf(
  monitor: LoopMonitor,
  events: BlockEvent[],
  work: () => unknown,
  fn: string,
): Promise<BlockEvent | undefined> {
  await monitor.ready();
  const seen = events.length;
  await sleep(50);
  const ran = { scheduledAt: Date.now(), from: 0, to: 0 };
  setTimeout(() => {
    ran.from = Date.now();
    work();
    ran.to = Date.now();
  }, 0);
  const covers = (e: BlockEvent): boolean =>
    ran.to > 0 && Date.parse(e.startedAt) <= ran.from + 30 && Date.parse(e.startedAt) + e.durationMs >= ran.to - 30;
  const mine = (): BlockEvent | undefined =>
    events.slice(seen).find((e) => e.stack?.some((f) => f.functionName === fn));
  // The event of this work: the one with `fn` on its stack, else the one that spans the work.
  await waitFor(() => mine() !== undefined || events.slice(seen).some(covers), 60_000);
  const event = mine() ?? events.slice(seen).find(covers);
  if (event) lastWork.set(event, ran);
  return event;
}

/** When the work of a `blockOf` event was scheduled, started and ended (wall clock). */
const lastWork = new WeakMap<BlockEvent, { scheduledAt: number; from: number; to: number }>();

function frameIn(event: BlockEvent | undefined, fn: string): { line: number; file: string } | undefined {
  return event?.stack?.find((f) => f.functionName === fn && f.file === FIXTURE);
}

t.test('blocking calls are detected with the right function and source-mapped line', async (t) => {
  const json = makeBigJson(300_000); // before the monitor: building it blocks too
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 100, onBlock: (e) => events.push(e) });
  t.teardown(() => monitor.stop());

  const busy = await blockOf(monitor, events, () => busyLoop(400), 'busyLoop');
  // A sample in the loop itself (on a loaded machine a pause queued while the process was not
  // scheduled can land on busyLoop's first line, in the first sample).
  const busyLines = (busy?.samples ?? []).map(
    (x) => x.frames.find((f) => f.functionName === 'busyLoop' && f.file === FIXTURE)?.line,
  );
  t.ok(
    busyLines.includes(lineOf('busy')),
    `busy loop → busyLoop at its line (${busy?.stackError ?? busyLines.join(', ')})`,
  );
  // The measured block spans the work (to within a heartbeat tick of 25 ms) and starts no earlier
  // than the turn of the loop that scheduled it: bounds from what this run's scheduler did.
  const ran = lastWork.get(busy!);
  const start = Date.parse(busy!.startedAt);
  t.ok(
    ran && busy!.durationMs >= ran.to - ran.from - 30 && start >= ran.scheduledAt - 30 && start <= ran.from + 30,
    `duration measured (${busy?.durationMs} ms for ${ran ? ran.to - ran.from : '?'} ms of work)`,
  );
  t.ok(busy!.durationMs >= 300, "at least the work's own CPU time");

  const regex = await blockOf(monitor, events, () => validateEmail(`${'a'.repeat(24)}!`), 'validateEmail');
  t.equal(
    frameIn(regex, 'validateEmail')?.line,
    lineOf('regex'),
    `catastrophic regex → validateEmail (${regex?.stackError ?? regex?.stack?.map((f) => `${f.functionName}:${f.line}`).join(' < ')})`,
  );

  const gzip = await blockOf(monitor, events, () => compressPayload(64 * 1024 * 1024), 'compressPayload');
  t.ok(
    frameIn(gzip, 'compressPayload'),
    `gzipSync → compressPayload (${gzip?.stackError ?? gzip?.stack?.map((f) => f.functionName).join(' < ')})`,
  );
  t.equal(frameIn(gzip, 'compressPayload')?.line, lineOf('gzip'));

  // V8 cannot interrupt JSON.parse: the stack is taken where JavaScript makes its next call.
  const parse = await blockOf(monitor, events, () => loadCatalog(json), 'loadCatalog');
  const parseFrame = frameIn(parse, 'loadCatalog');
  t.ok(
    parseFrame,
    `JSON.parse → loadCatalog (${parse?.stackError ?? parse?.stack?.map((f) => f.functionName).join(' < ')})`,
  );
  t.ok(
    [lineOf('json'), lineOf('json-next')].includes(parseFrame?.line ?? -1),
    `at the parse or the line after it (${parseFrame?.line})`,
  );

  const text = renderBlockEventText(busy!);
  t.match(text, /the event loop was blocked for (?:\d+ ms|[\d.]+ s)/);
  t.match(text, /while \(cpuMsSince\(start\) < ms\) spins\+\+;/, 'text shows the source line');
  t.equal(monitor.stats().blockCount, events.length);
});

t.test('ready() resolves once stack capture is up', async (t) => {
  const monitor = monitorEventLoop({ thresholdMs: 100 });
  t.teardown(() => monitor.stop());
  await monitor.ready();
  t.equal(monitor.stackCapture, 'active');
});

t.test('a long block is sampled repeatedly and the hot frames say where the time went', async (t) => {
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 100, sampleIntervalMs: 50, onBlock: (e) => events.push(e) });
  t.teardown(() => monitor.stop());
  const e = await blockOf(monitor, events, () => twoPhase(300, 1200), 'twoPhase');
  t.ok(e && e.samples.length >= 5, `several samples (${e?.samples.length})`);
  const inB = e!.hotFrames.find((h) => h.frame.functionName === 'phaseB');
  t.ok(inB && inB.ratio >= 0.5, `phaseB on the stack in most samples (${inB?.ratio})`);
  t.ok(
    e!.hotFrames.every((h, i, all) => i === 0 || all[i - 1]!.ratio >= h.ratio),
    'sorted by share',
  );
  t.ok(
    e!.samples.every((s, i, all) => i === 0 || s.offsetMs >= all[i - 1]!.offsetMs),
    'samples in time order',
  );
});

t.test('several long blocks in a row each get their own event; short work is not reported', async (t) => {
  // On a loaded machine the process itself may be descheduled for a while: that is loop delay
  // too, but without our code on the stack, so only events in busyLoop are counted here.
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 250, onBlock: (e) => events.push(e) });
  t.teardown(() => monitor.stop());
  const inBusyLoop = (): BlockEvent[] => events.filter((e) => e.stack?.some((f) => f.functionName === 'busyLoop'));
  await sleep(50);
  for (let i = 0; i < 20; i++) {
    busyLoop(5); // far under the threshold
    await sleep(5);
  }
  await sleep(100);
  t.same(
    inBusyLoop().map((e) => Math.round(e.durationMs)),
    [],
    'no block for short work',
  );
  // Each block starts 100 ms after the previous one ended (fixed start times would run two blocks
  // back to back, as one, when a loaded machine stretches the first past the second's start).
  const blockThenNext = (left: number): void => {
    busyLoop(500);
    if (left > 1) setTimeout(() => blockThenNext(left - 1), 100);
  };
  setTimeout(() => blockThenNext(3), 0);
  await waitFor(() => inBusyLoop().length >= 3, 60_000);
  const blocks = inBusyLoop();
  t.equal(blocks.length, 3, 'three blocks, three events with their stacks');
  t.equal(new Set(blocks.map((e) => e.id)).size, 3, 'distinct ids');
  const stats = monitor.stats();
  t.ok(stats.maxMs >= 400, `histogram max ${stats.maxMs} ms`);
  t.ok(stats.p50Ms < 250, `p50 ${stats.p50Ms} ms`);
  t.ok(stats.utilization > 0 && stats.utilization <= 1, `utilization ${stats.utilization}`);
  t.equal(monitor.blocks().length, events.length);
  t.equal(stats.blockCount, events.length);
  monitor.reset();
  t.equal(monitor.blocks().length, 0);
  t.equal(monitor.stats().blockCount, 0);
});

t.test('captureStacks: false measures blocks without the worker', async (t) => {
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 50, captureStacks: false, onBlock: (e) => events.push(e) });
  t.teardown(() => monitor.stop());
  const e = await blockOf(monitor, events, () => busyLoop(200), 'busyLoop');
  t.ok(e);
  t.equal(e!.stack, undefined);
  t.match(e!.stackError, /captureStacks: false/);
  t.match(monitor.stackCapture, /off/);
});

t.test('with a debugger possibly attached (--inspect), the monitor runs without stacks and says so once', async (t) => {
  const res = await runFixture(fixture('loop-under-debugger.ts'), {
    nodeArgs: ['--inspect=127.0.0.1:0'],
    timeoutMs: 30_000,
  });
  t.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
    events: { stack?: unknown; stackError?: string }[];
    stackCapture: string;
  };
  t.ok(out.events.length >= 2, `both blocks reported (${out.events.length} events; a loaded machine may add stalls)`);
  t.ok(
    out.events.every((e) => e.stack === undefined && /inspector is open/.test(e.stackError ?? '')),
    'without stacks, with the reason',
  );
  t.match(out.stackCapture, /inspector is open/);
  t.equal(res.stderr.match(/runs without stacks/g)?.length, 1, 'said once');
});

t.test(
  'stop() leaves no handle behind',
  { skip: existsSync(BUILT) ? false : 'dist/ is not built (run `npm run build`)' },
  async (t) => {
    const res = await runFixture(fixture('loop-stop-handles.mjs'), {
      timeoutMs: 30_000,
      plainNode: true,
      args: [BUILT],
    });
    t.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      before: string[];
      after: string[];
      blocks: number;
      started: string[];
      leftOver: string[];
    };
    t.equal(out.blocks, 1, 'the block was seen');
    // Nothing added: each resource left is one that was there before (a loaded machine may still
    // have been connecting the child's stdio pipes when `before` was taken).
    const left = [...out.before];
    const added = out.after.filter((r) => {
      const i = left.indexOf(r);
      if (i < 0) return true;
      left.splice(i, 1);
      return false;
    });
    t.same(
      added,
      [],
      `no active resource added by the monitor (before: ${out.before.join(', ')}; after: ${out.after.join(', ')})`,
    );
    t.ok(
      out.started.includes('Timeout') && out.started.includes('WORKER'),
      `the monitor had started its heartbeat and worker (${out.started.join(', ')})`,
    );
    t.same(out.leftOver, [], "every handle created while it ran is gone (unref'd ones included)");
  },
);

t.test('bad options are rejected with typed errors', async (t) => {
  for (const [option, value] of [
    ['thresholdMs', 5],
    ['thresholdMs', 'fast'],
    ['sampleIntervalMs', 0],
    ['onBlock', 1],
    ['maxEvents', -1],
    ['captureStacks', 'yes'],
  ] as const) {
    t.throws(
      () => monitorEventLoop({ [option]: value } as never),
      { code: 'ERR_INVALID_OPTION', option },
      `${option}=${String(value)}`,
    );
  }
  t.throws(() => monitorEventLoop(3 as never), { code: 'ERR_INVALID_OPTION', option: 'options' });
});

t.test('if the watchdog worker dies, the monitor keeps running without stacks and says so once', async (t) => {
  const res = await runFixture(fixture('loop-worker-dies.ts'), { timeoutMs: 30_000 });
  t.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
    events: { stack: boolean; stackError?: string }[];
    stackCapture: string;
  };
  t.ok(out.events.length >= 2, `blocks still measured (${out.events.length})`);
  t.ok(
    out.events.every((e) => !e.stack && /watchdog worker exited/.test(e.stackError ?? '')),
    'without stacks, saying why',
  );
  t.equal(res.stderr.match(/runs without stacks/g)?.length, 1, 'said once');
});

t.test(
  'the delay histogram is fed by the heartbeat (no timer of its own) and holds how late the loop was',
  async (t) => {
    const monitor = monitorEventLoop({ thresholdMs: 100 });
    t.teardown(() => monitor.stop());
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const elapsed = performance.now() - started;
    const stats = monitor.stats();
    // One sample per heartbeat tick (every 25 ms at a 100 ms threshold); a 10 ms delay timer beside it gave ~40.
    t.ok(
      stats.samples >= 1 && stats.samples <= Math.ceil(elapsed / 25) + 1,
      `${stats.samples} samples in ${elapsed.toFixed(0)} ms`,
    );
    t.ok(stats.minMs >= 0 && stats.minMs < 25, `an idle loop is late by less than a tick: min ${stats.minMs} ms`);
  },
);

t.test(
  'resolutionMs: a separate delay timer, its values also how late the loop was (not the whole interval)',
  async (t) => {
    const monitor = monitorEventLoop({ thresholdMs: 100, resolutionMs: 10 });
    t.teardown(() => monitor.stop());
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = monitor.stats();
    t.ok(stats.samples >= 5, `${stats.samples} samples`);
    t.ok(stats.minMs >= 0 && stats.minMs < 10, `min ${stats.minMs} ms, the 10 ms interval not counted`);
  },
);

t.test(
  'stop() right after a block, before its samples reached this thread: the block is reported, with what the watchdog captured',
  async (t) => {
    const events: BlockEvent[] = [];
    const monitor = monitorEventLoop({ thresholdMs: 100, onBlock: (e) => events.push(e) });
    t.teardown(() => monitor.stop());
    await monitor.ready();
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        // Due after the heartbeat's next tick, and run in the same timers phase once the block is
        // over: the tick measures the block, then stop() runs before the loop could receive the
        // worker's samples.
        setTimeout(() => {
          monitor.stop();
          resolve();
        }, 40);
        busyLoop(400);
      }, 10);
    });
    t.equal(events.length, 1, 'the block is reported');
    t.notMatch(
      events[0]?.stackError ?? '',
      /monitor stopped before/,
      `what the watchdog had: ${events[0]?.stack ? 'a stack' : events[0]?.stackError}`,
    );
  },
);
