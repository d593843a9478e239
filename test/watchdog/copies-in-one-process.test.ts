import t from 'tap';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, root, runFixture } from '../helpers.js';

// The ESM build, the CommonJS build and a copy of the package in another folder, in one process:
// each monitors the loop and wraps an operation; one 1500 ms block. Before the process-wide
// registry each copy started its own watchdog worker and the process hung (or died of SIGTRAP).
const built = existsSync(`${root}/dist/esm/lib/index.js`) && existsSync(`${root}/dist/cjs/lib/index.js`);

interface Seen {
  results: string[];
  copies: {
    entry: string;
    blocks: { startedAt: string; durationMs: number; stack: string[]; stackError?: string }[];
    hangs: { state: string; stack: string[] }[];
  }[];
  crossInstanceof: boolean[][];
}

function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-copy-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

t.test(
  'three copies of hangwatch in one process share one watchdog',
  { skip: built ? false : 'dist/ is not built (run `npm run build`)' },
  async (t) => {
    const copy = copyPackage();
    t.teardown(() => rmSync(copy, { recursive: true, force: true }));
    const entries = [`${root}/dist/esm/lib/index.js`, `${root}/dist/cjs/lib/index.js`, `${copy}/dist/esm/lib/index.js`];

    await t.test('one report per block per monitor, with the stack; no crash, no hang', async (t) => {
      const r = await runFixture(fixture('copies-in-one-process.mjs'), {
        plainNode: true,
        args: entries,
        timeoutMs: 60_000,
      });
      t.equal(r.signal, null, `not killed (${r.signal}); stderr: ${r.stderr.slice(0, 500)}`);
      t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 500)}`);
      const seen = JSON.parse(r.stdout) as Seen;
      t.same(seen.results, ['ok', 'ok', 'ok'], 'every wrapped operation resolved');
      for (const c of seen.copies) {
        // On a loaded machine the loop can also be starved (not blocked) for a while: those blocks
        // are real too; what must not happen is two reports of one block.
        const long = c.blocks.filter((b) => b.durationMs >= 1400);
        t.equal(long.length, 1, `${c.entry}: one report of the 1500 ms block (${JSON.stringify(c.blocks)})`);
        // Known and open: under parallel load the watchdog's samples of this block sometimes arrive
        // after the heartbeat's 2 s wait, and the block is reported without its stack.
        t.ok(long[0]?.stack.includes('blockInNamedFunction'), `${c.entry}: with its stack in blockInNamedFunction`, {
          todo:
            long[0] &&
            long[0].stack.length === 0 &&
            /did not deliver its samples in time/.test(long[0].stackError ?? '')
              ? 'samples late under load (open)'
              : false,
        });
        t.equal(new Set(c.blocks.map((b) => b.startedAt)).size, c.blocks.length, `${c.entry}: no block reported twice`);
        t.equal(c.hangs.length, 1, `${c.entry}: one hang report`);
        t.equal(c.hangs[0]?.state, 'blocked', `${c.entry}: reported as blocked`);
        t.ok(
          c.hangs[0]?.stack.includes('blockInNamedFunction'),
          `${c.entry}: the hang report's stack shows the blocking function (${JSON.stringify(c.hangs[0])})`,
        );
      }
      t.same(
        seen.crossInstanceof,
        [
          [true, true, true],
          [true, true, true],
          [true, true, true],
        ],
        "an error of any copy is instanceof every copy's classes",
      );
    });

    await t.test('a registry of another protocol: this copy measures blocks without pausing the thread', async (t) => {
      const r = await runFixture(fixture('copies-in-one-process.mjs'), {
        plainNode: true,
        args: entries.slice(0, 2),
        timeoutMs: 60_000,
        env: { FOREIGN_REGISTRY: '1' },
      });
      t.equal(r.code, 0, `exits by itself; stderr: ${r.stderr.slice(0, 500)}`);
      const seen = JSON.parse(r.stdout) as Seen;
      for (const c of seen.copies) {
        const long = c.blocks.filter((b) => b.durationMs >= 1400);
        t.ok(long.length >= 1, `${c.entry}: the 1500 ms block is reported`);
        t.equal(new Set(c.blocks.map((b) => b.startedAt)).size, c.blocks.length, `${c.entry}: no block reported twice`);
        t.same(long[0]?.stack, [], 'no stack');
        t.match(long[0]?.stackError ?? '', /another copy of hangwatch \(registry protocol 999/, 'says why');
        t.equal(c.hangs[0]?.state, 'blocked', 'the hang is still reported, from the late timer');
      }
    });
  },
);
