import t from 'tap';
import { fixture, runFixture } from '../helpers.js';

interface WorkerRound {
  stackCapture: string;
  blocks: { durationMs: number; stack: string[]; stackError?: string }[];
  hangs: { kind: string; threadId: number; stack: string[]; stackUnavailable?: string }[];
}

// hangwatch used inside a worker thread: the process's one watchdog (hosted by the main thread's
// hangwatch) pauses the worker through the main thread's inspector session (NodeWorker domain).
t.test("a worker blocked in a named function: its block and its hung operation carry the worker's stack", async (t) => {
  const r = await runFixture(fixture('workers/api-in-worker.ts'), { timeoutMs: 90_000 });
  t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 800)}`);
  const seen = JSON.parse(r.stdout) as {
    block: WorkerRound;
    hang: WorkerRound;
    mainBlocks: number[];
    workerThreadId: number;
  };
  t.equal(seen.block.stackCapture, 'active', 'stack capture is active in the worker');
  const long = seen.block.blocks.filter((b) => b.durationMs >= 350);
  t.equal(long.length, 1, 'one report of the 400 ms block');
  // The first capture of a thread attaches to it and enables its debugger: on a loaded machine
  // that can outlast a 400 ms block; the second block (600 ms) must have its stack.
  const hangBlock = seen.hang.blocks.filter((b) => b.durationMs >= 500);
  t.equal(hangBlock.length, 1, 'one report of the 600 ms block');
  t.ok(
    hangBlock[0]?.stack.includes('resizeImageInWorker'),
    `the block's stack is the worker's (${hangBlock[0]?.stack} ${hangBlock[0]?.stackError ?? ''})`,
  );
  t.equal(seen.hang.hangs.length, 1, 'one hang report');
  t.equal(seen.hang.hangs[0]?.kind, 'blocked', 'reported as blocked');
  t.equal(seen.hang.hangs[0]?.threadId, seen.workerThreadId, "with the worker's threadId");
  t.same(
    seen.hang.hangs[0]?.stack.slice(0, 3),
    ['spin', 'resizeImageInWorker', 'workerOperation'],
    `the hang report's stack is the worker's (${seen.hang.hangs[0]?.stackUnavailable ?? ''})`,
  );
});

t.test('workers starting and exiting while monitored: forgotten when they exit, nothing kept alive', async (t) => {
  const r = await runFixture(fixture('workers/workers-come-and-go.ts'), { timeoutMs: 90_000 });
  t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 800)}`);
  const seen = JSON.parse(r.stdout) as { rounds: { threadId: number; stack: string[] }[]; watchedAfter: number[] };
  t.equal(seen.rounds.length, 3, 'three workers, one after the other');
  for (const round of seen.rounds)
    t.ok(round.stack.includes('resizeImageInWorker'), `worker ${round.threadId}: its stack (${round.stack})`);
  t.same(seen.watchedAfter, [], 'the watchdog forgot every exited worker');
});

t.test('hangwatch in a worker without hangwatch on the main thread: blocks measured, no stack, says why', async (t) => {
  const r = await runFixture(fixture('workers/api-in-worker-only.ts'), { timeoutMs: 90_000 });
  t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 800)}`);
  const seen = JSON.parse(r.stdout) as WorkerRound;
  t.match(seen.stackCapture, /hangwatch runs on the main thread: use hangwatch there too/, 'stackCapture says why');
  t.equal(seen.blocks.filter((b) => b.durationMs >= 350).length, 1, 'the block is measured');
});

t.test(
  "a worker inside a native call cannot be paused: the main thread's block still gets its stack meanwhile",
  async (t) => {
    const r = await runFixture(fixture('workers/main-blocks-while-worker-waits.ts'), { timeoutMs: 90_000 });
    t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 800)}`);
    const seen = JSON.parse(r.stdout) as {
      main: { durationMs: number; stack: string[]; stackError?: string }[];
      worker: { blocks: { durationMs: number; stack: string[]; stackError?: string }[] };
    };
    t.equal(seen.main.length, 1, "one report of the main thread's 1.5 s block");
    // With one capture at a time for all threads, the worker's pending pause held up the main
    // thread's and this block had no stack.
    t.ok(
      seen.main[0]?.stack.includes('blockInMainThread'),
      `with the main thread's stack (${seen.main[0]?.stackError ?? ''})`,
    );
    const waited = seen.worker.blocks.filter((b) => b.durationMs >= 2400);
    t.equal(waited.length, 1, "the worker's 3 s native call is reported once, as a block of its loop");
    // The queued pause lands as the call returns: at the next statement (the stack shows the call),
    // or, when the worker's heartbeat runs first, too late for this block (and the block says so).
    t.ok(
      waited[0]?.stack.includes('execFileSync') ||
        /while the watchdog was pausing worker thread/.test(waited[0]?.stackError ?? ''),
      `the stack where the pause landed, or why there is none (${waited[0]?.stackError ?? waited[0]?.stack.join(' < ')})`,
    );
  },
);
