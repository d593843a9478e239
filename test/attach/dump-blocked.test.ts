// `hangwatch dump <pid>` on blocked processes (a busy loop, a regular expression, a native call), each left as it was.
import t from 'tap';
import { runCli } from '../cli/run-cli.js';
import { keepsRunning, leftAsItWas, targetsStoppedAtEnd } from './target.js';

const target = targetsStoppedAtEnd(t);

t.test('a target spinning in a named function', async (t) => {
  const x = await target('attach-spin.mjs');
  const r = await runCli(['dump', String(x.pid)]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `Process ${x.pid}, main thread: running JavaScript (most recent call last):`);
  t.match(r.stdout, /File ".*attach-spin\.mjs", line 4, column \d+, in spinInNamedFunction\n\s+for \(;;\) x\+\+;/);
  await leftAsItWas(t, x);
  t.ok(await keepsRunning(x.pid), 'the target still runs (not left paused)');
});

t.test('a target blocked in a catastrophic regular expression', async (t) => {
  const x = await target('attach-regex.mjs');
  const r = await runCli(['dump', String(x.pid)]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /File ".*attach-regex\.mjs", line 3, column \d+, in matchEvilPattern/);
  await leftAsItWas(t, x);
  t.ok(await keepsRunning(x.pid), 'the target still runs the regular expression');
});

t.test(
  'a target inside a long native call (JSON.parse): the stack where it resumed, and the time it waited',
  async (t) => {
    const x = await target('attach-native.mjs');
    const r = await runCli(['dump', '--json', String(x.pid)]);
    t.equal(r.code, 0, r.stderr);
    const [main] = JSON.parse(r.stdout).threads;
    t.equal(main.state, 'running');
    t.ok(main.answerDelayMs >= 100, `answered after ${main.answerDelayMs} ms: it was inside JSON.parse`);
    t.ok(
      main.frames.some(
        (f: { functionName: string }) => f.functionName === 'parseBigDocument' || f.functionName === 'parseForever',
      ),
      JSON.stringify(main.frames),
    );
    await leftAsItWas(t, x);
    t.ok(await keepsRunning(x.pid));
  },
);
