/**
 * A heap snapshot of a process that loaded a big script must cost about what the heap's size says, on
 * every backend: on Node 20, without the line-end tables built first, V8 scans the script for each
 * closure's line and the capture takes several times longer (minutes for an 11 MB bundle).
 */
import t from 'tap';
import { join } from 'node:path';
import { root, runFixture } from '../helpers.js';

const fixture = join(root, 'test', 'heap', 'fixtures', 'snapshot-with-big-script.ts');

for (const backend of ['inspector', 'v8'] as const) {
  t.test(
    `${backend} backend: a snapshot with a 12,000-function script loaded is not slowed by line lookups`,
    async (t) => {
      const result = await runFixture(fixture, { args: [backend, '12000'], timeoutMs: 150_000 });
      t.equal(result.code, 0, result.stderr);
      const { functions, hangwatchMs, referenceMs, bytes } = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
        functions: number;
        hangwatchMs: number;
        referenceMs: number;
        bytes: number;
      };
      t.equal(functions, 12_000);
      // Same heap, same size, measured in CPU time of the same process: without the fix hangwatch's
      // capture costs 5-6x the reference on Node 20 (quadratic in the script's size); with it, about 1x.
      t.ok(
        hangwatchMs <= 2.5 * referenceMs,
        `hangwatch ${hangwatchMs.toFixed(0)} ms CPU vs ${referenceMs.toFixed(0)} ms with line tables built (${(bytes / 1048576).toFixed(1)} MB)`,
      );
    },
  );
}
