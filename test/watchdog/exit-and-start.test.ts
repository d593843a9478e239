import t from 'tap';
import { existsSync } from 'node:fs';
import { fixture, root, runFixture } from '../helpers.js';

const built = existsSync(`${root}/dist/cjs/lib/index.js`);

// Exiting while the watchdog holds an inspector session to the main thread used to make Node
// print "Waiting for the debugger to disconnect..." (and, under --inspect, wait for it).
const RUNS = 3;

t.test('process.exit() during a sampled block: no debugger message, exits at once', async (t) => {
  for (let i = 0; i < RUNS; i++) {
    const r = await runFixture(fixture('exit-during-capture.ts'), { args: ['block-exit'] });
    t.equal(r.code, 0, 'exit code');
    t.match(r.stdout, /exit 0 after/, 'exited through process.exit');
    t.notMatch(r.stderr, /Waiting for the debugger/, `run ${i + 1}: nothing printed about a debugger`);
  }
});

t.test(
  'action "exit" from the watchdog while the loop is blocked: the code, no debugger message, no waiting for the block',
  async (t) => {
    for (let i = 0; i < RUNS; i++) {
      const r = await runFixture(fixture('exit-during-capture.ts'), { args: ['hang-exit'] });
      t.equal(r.code, 3, 'the exit code of the action');
      t.match(r.stderr, /exiting with code 3 \(action "exit"\)/, 'says why it exits');
      t.notMatch(r.stderr, /Waiting for the debugger/, `run ${i + 1}: nothing printed about a debugger`);
      const after = Number(/exit 3 after (\d+) ms/.exec(r.stdout)?.[1]);
      t.ok(after < 60_000, `exited while the 60 s block was still running (${after} ms)`);
    }
  },
);

t.test(
  'watchEventLoop action "exit" while a timer callback spins forever: the code, exit handlers, no debugger message',
  async (t) => {
    for (let i = 0; i < RUNS; i++) {
      const r = await runFixture(fixture('exit-during-capture.ts'), { args: ['loop-exit'] });
      t.equal(r.code, 4, `the exit code of the action (stderr: ${r.stderr.slice(0, 300)})`);
      t.match(r.stdout, /exit 4 after/, 'exit handlers ran');
      t.notMatch(r.stderr, /Waiting for the debugger/, `run ${i + 1}: nothing printed about a debugger`);
    }
  },
);

t.test(
  "the first operation of a process with a 0.5 ms timeout: the watchdog's start is not a block",
  { skip: built ? false : 'dist/ is not built (run `npm run build`)' },
  async (t) => {
    // Starting the watchdog worker (made 60 ms slow by the fixture, as on a loaded machine) used to
    // happen inside the first operation's deadline and make it "blocked".
    for (let i = 0; i < 2; i++) {
      const r = await runFixture(fixture('first-short-operation.cjs'), {
        plainNode: true,
        args: [`${root}/dist/cjs/lib/index.js`],
      });
      t.equal(r.code, 0, r.stderr);
      const reports = JSON.parse(r.stdout) as { kind: string }[];
      t.same(
        reports.filter((x) => x.kind === 'blocked'),
        [],
        `run ${i + 1}: no "blocked" report (${r.stdout.trim()})`,
      );
    }
  },
);
