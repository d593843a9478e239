import t from 'tap';
import { existsSync } from 'node:fs';
import type { BlockEvent } from '../../lib/index.js';
import { fixture, root, runFixture } from '../helpers.js';

// The zero-code preload in a program with worker threads: each worker's blocks are reported with
// that worker's stack, its threadId and its name; the main thread's as before. Run from the build:
// on Node 20 a worker thread gets the preload (--import) but not tsx's hooks in time to load .ts.
const built = existsSync(`${root}/dist/esm/lib/register.js`);

t.test(
  "the preload reports each worker thread's blocks with its stack, threadId and name",
  { skip: built ? false : 'dist/ is not built (run `npm run build`)' },
  async (t) => {
    const r = await runFixture(fixture('workers/preload-workers.mjs'), {
      plainNode: true,
      nodeArgs: ['--import', `${root}/dist/esm/lib/register.js`],
      args: ['800'],
      env: { HANGWATCH_FORMAT: 'json', HANGWATCH_REPORT_DIR: 'off', HANGWATCH_BLOCK_MS: '100' },
      timeoutMs: 90_000,
    });
    t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 800)}`);
    t.match(r.stdout, /finished/, 'the program ran to its end');
    const events = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as BlockEvent)
      .filter((e) => e.schema === 'hangwatch.block-event' && e.durationMs >= 700);
    const inWorkers = events.filter((e) => e.threadId !== 0);
    const inMain = events.filter((e) => e.threadId === 0);
    t.equal(inMain.length, 1, `the main thread's block, once (${JSON.stringify(inMain.map((e) => e.durationMs))})`);
    t.ok(
      inMain[0]?.stack?.some((f) => f.functionName === 'blockInMainThread'),
      `with the main thread's stack (${JSON.stringify(inMain[0]?.stackError ?? inMain[0]?.samples.map((s) => s.frames.length))})`,
    );
    t.equal(inMain[0]?.threadName, undefined, 'no thread name on the main thread');
    for (const name of ['image-resizer', 'pdf-renderer']) {
      const mine = inWorkers.filter((e) => e.threadName === name);
      t.ok(
        mine.length >= 1,
        `${name}: its blocks are reported with its name (${JSON.stringify(inWorkers.map((e) => [e.threadId, e.threadName, e.stackError]))})`,
      );
      // The first capture of a worker attaches to it, which can outlast a block on a loaded machine:
      // of its two 800 ms blocks, at least the second has the worker's stack.
      t.ok(
        mine.some((e) => e.stack?.some((f) => f.functionName === 'resizeImageInWorker')),
        `${name}: with the worker's own stack (${JSON.stringify(mine.map((e) => e.stackError ?? e.stack?.map((f) => f.functionName)))})`,
      );
    }
    t.equal(new Set(inWorkers.map((e) => e.threadId)).size, 2, 'two worker threads, told apart by threadId');
  },
);
