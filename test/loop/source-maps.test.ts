import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, root, runFixture } from '../helpers.js';

const built = existsSync(join(root, 'dist/esm/lib/index.js'));
const source = fixture('compiled-block.ts');
const markLine =
  readFileSync(source, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('MARK:compiled-busy')) + 1;

t.test(
  'compiled JavaScript with a .map file is reported at the TypeScript line',
  { skip: built ? false : 'dist/ is not built' },
  async (t) => {
    // Inside the package, so that `import 'hangwatch'` resolves to the built package.
    const out = t.testdir({});
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/lib/tsc.js'),
        '--ignoreConfig',
        '--sourceMap',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--skipLibCheck',
        '--types',
        'node',
        '--outDir',
        out,
        '--rootDir',
        join(root, 'test/fixtures'),
        source,
      ],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const js = join(out, 'compiled-block.js');
    t.ok(existsSync(`${js}.map`), 'tsc wrote a .map file');
    t.match(readFileSync(js, 'utf8'), /sourceMappingURL=compiled-block\.js\.map/);
    const res = await runFixture(js, { timeoutMs: 60_000, plainNode: true });
    t.equal(res.code, 0, res.stderr);
    t.match(
      res.stdout,
      new RegExp(`File "${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}", line ${markLine}, column \\d+, in crunch`),
      'frame mapped to the .ts file and line',
    );
    t.match(res.stdout, /while \(cpuMsSince\(start\) < work\.cpuMs\) n\+\+;/, 'with the TypeScript source line');
  },
);
