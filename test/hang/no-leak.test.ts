import t from 'tap';
import { fixture, runFixture } from '../helpers.js';

t.test('1,000,000 wrapped fast calls leave heap and active handles flat', async (t) => {
  const res = await runFixture(fixture('fast-calls-leak-check.ts'), { nodeArgs: ['--expose-gc'], timeoutMs: 120_000 });
  t.equal(res.code, 0, res.stderr);
  const { before, after } = JSON.parse(res.stdout) as {
    before: { heap: number; handles: number };
    after: { heap: number; handles: number };
  };
  t.equal(after.handles, before.handles, `handles ${before.handles} → ${after.handles}`);
  const growth = after.heap - before.heap;
  t.ok(growth < 2 * 1024 * 1024, `heap growth ${(growth / 1024).toFixed(0)} KiB after a million calls (< 2 MiB)`);
});

t.test('a finished operation with a long timeout does not keep the process alive', async (t) => {
  const res = await runFixture(fixture('quick-exit.ts'), { timeoutMs: 30_000 });
  t.equal(res.code, 0, res.stderr);
  const ms = Number(/exited after (\d+) ms/.exec(res.stdout)?.[1]);
  t.ok(ms < 5000, `exited ${ms} ms after start, not after the 60 s timeout`);
});
