/**
 * Import cycles: `hangwatch cycles <entry>` finds them statically in ESM, CommonJS and TypeScript
 * sources (type-only imports and comments left out), exit code 1 when there is one; the preload
 * names the cycle behind a start-up error (ESM temporal dead zone, CommonJS partially-loaded
 * module) and stays silent for an ordinary start-up error.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { findCycles } from '../../lib/cycles/find-cycles.js';
import { formatCycle } from '../../lib/cycles/format-cycle.js';
import { buildImportGraph, importsOf } from '../../lib/cycles/import-graph.js';
import { root } from '../helpers.js';
import { fixture, runCli } from '../cli/run-cli.js';

function runWithPreload(entry: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'env',
      ['-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx', '--import', join(root, 'lib/register.ts'), entry],
      {
        cwd: root,
        env: { ...process.env, HANGWATCH_REPORT_DIR: 'off' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

t.test(
  'importsOf: static imports, re-exports, require; not type-only imports, dynamic import() or comments',
  async (t) => {
    const src = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "// import e from './e.js';",
      "/* require('./f.cjs') */",
      "const g = require('./g.cjs');",
      "const h = await import('./h.js');",
      "import './i.css';",
      "import express from 'express';",
      'const s = "import x from \'./not-code.js\'";',
      "import{j}from'./j.js'",
    ].join('\n');
    t.same(importsOf(src), [
      { specifier: './a.js', line: 1 },
      { specifier: './c.js', line: 3 },
      { specifier: './g.cjs', line: 7 },
      { specifier: './i.css', line: 9 },
      { specifier: './j.js', line: 12 },
    ]);
  },
);

t.test(
  'findCycles: the ESM fixture, the CommonJS fixture, the TypeScript fixture (./x.js → x.ts, type-only back edge ignored)',
  async (t) => {
    const esm = findCycles(buildImportGraph(fixture('import-cycle/app-main.mjs')));
    t.same(
      esm.map((c) => formatCycle(c, fixture('import-cycle'))),
      ['app-main.mjs:1 → app-prices.mjs:1 → app-main.mjs'],
    );
    const cjs = findCycles(buildImportGraph(fixture('import-cycle-cjs/main.cjs')));
    t.same(
      cjs.map((c) => formatCycle(c, fixture('import-cycle-cjs'))),
      ['main.cjs:2 → config.cjs:1 → main.cjs'],
    );
    const ts = findCycles(buildImportGraph(fixture('import-cycle-ts/index.ts')));
    t.same(
      ts.map((c) => formatCycle(c, fixture('import-cycle-ts'))),
      ['orders/service.ts:2 → orders/tax.ts:1 → orders/service.ts'],
    );
    t.same(findCycles(buildImportGraph(fixture('no-cycle/main.mjs'))), []);
  },
);

t.test('findCycles: a bigger graph — every file on a cycle is on a listed cycle, each cycle once', async (t) => {
  // a → b → c → a, c → d → c, e → e (self), f (no cycle)
  const f = (n: string): string => `/x/${n}.js`;
  const edges = new Map([
    [f('a'), [{ to: f('b'), line: 1 }]],
    [
      f('b'),
      [
        { to: f('c'), line: 1 },
        { to: f('f'), line: 2 },
      ],
    ],
    [
      f('c'),
      [
        { to: f('a'), line: 1 },
        { to: f('d'), line: 2 },
        { to: f('e'), line: 3 },
      ],
    ],
    [f('d'), [{ to: f('c'), line: 1 }]],
    [f('e'), [{ to: f('e'), line: 4 }]],
    [f('f'), []],
  ]);
  const cycles = findCycles({ entry: f('a'), edges, unreadable: new Map() });
  const lines = cycles.map((c) => formatCycle(c, '/x')).sort();
  t.same(lines, ['a.js:1 → b.js:1 → c.js:1 → a.js', 'c.js:2 → d.js:1 → c.js', 'e.js:4 → e.js']);
});

t.test('hangwatch cycles: exit 1 and the cycles; exit 0 without; --json; exit 2 for a missing entry', async (t) => {
  const found = await runCli(['cycles', 'test/fixtures/import-cycle-ts/index.ts']);
  t.equal(found.code, 1);
  t.match(found.stdout, /1 import cycle\(s\) among the 3 file\(s\) reachable/, 'the type-only import is not followed');
  t.match(
    found.stdout,
    /test\/fixtures\/import-cycle-ts\/orders\/service\.ts:2 → test\/fixtures\/import-cycle-ts\/orders\/tax\.ts:1 → test\/fixtures\/import-cycle-ts\/orders\/service\.ts/,
  );
  const none = await runCli(['cycles', 'test/fixtures/no-cycle/main.mjs']);
  t.equal(none.code, 0);
  t.match(none.stdout, /no import cycle among the 2 file\(s\)/);
  const json = await runCli(['cycles', '--json', 'test/fixtures/import-cycle/app-main.mjs']);
  t.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as { files: number; cycles: Array<Array<{ file: string; line: number }>> };
  t.equal(parsed.files, 2);
  t.same(
    parsed.cycles[0]?.map((s) => s.line),
    [1, 1],
  );
  const missing = await runCli(['cycles', 'no/such/file.js']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no such file/);
});

t.test('preload: an ESM temporal-dead-zone error at start-up is followed by the cycle behind it', async (t) => {
  const r = await runWithPreload(fixture('import-cycle/app-main.mjs'));
  t.equal(r.code, 1, 'the program fails as it would without hangwatch');
  t.match(
    r.stderr,
    /ReferenceError: Cannot access 'CURRENCY' before initialization/,
    "Node's own error is still there",
  );
  t.match(
    r.stderr,
    /hangwatch: this start-up error comes from an import cycle:\n\s+test\/fixtures\/import-cycle\/app-main\.mjs:1 → test\/fixtures\/import-cycle\/app-prices\.mjs:1 → test\/fixtures\/import-cycle\/app-main\.mjs/,
  );
  t.match(r.stderr, /'CURRENCY' was read while the module that declares it was still loading/);
});

t.test('preload: a CommonJS module used while partially loaded is followed by the cycle', async (t) => {
  const r = await runWithPreload(fixture('import-cycle-cjs/main.cjs'));
  t.equal(r.code, 1);
  t.match(r.stderr, /TypeError: appName is not a function/);
  t.match(
    r.stderr,
    /import cycle:\n\s+test\/fixtures\/import-cycle-cjs\/main\.cjs:2 → test\/fixtures\/import-cycle-cjs\/config\.cjs:1 → test\/fixtures\/import-cycle-cjs\/main\.cjs/,
  );
});

t.test('preload: an ordinary start-up error gets no cycle hint', async (t) => {
  const r = await runWithPreload(fixture('no-cycle/main.mjs'));
  t.equal(r.code, 1);
  t.match(r.stderr, /an ordinary start-up failure/);
  t.notMatch(r.stderr, /import cycle/);
});
