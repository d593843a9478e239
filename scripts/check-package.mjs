#!/usr/bin/env node
// The package as npm would publish it: publint checks package.json against the files it ships
// (exports, types, main, bin), and @arethetypeswrong/cli checks that TypeScript resolves the right
// declarations for every entry point from ESM and from CommonJS (node16 resolution: hangwatch
// needs Node >= 20, so the pre-exports node10 resolution does not apply). dist/ must be built.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(join(root, 'dist/esm/lib/index.js')) || !existsSync(join(root, 'dist/cjs/lib/index.js'))) {
  console.error('check-package: dist/ is not built; run `npm run build` first');
  process.exit(1);
}
const bin = (name) => join(root, 'node_modules/.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'hangwatch-pack-'));
let status = 0;
try {
  // --ignore-scripts: prepack would build again; dist/ is already built by the test command.
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  const file = join(dir, tarball);
  for (const [name, args] of [
    ['publint', ['run', file, '--strict']],
    ['attw', [file, '--profile', 'node16', '--format', 'ascii']],
  ]) {
    try {
      execFileSync(bin(name), args, { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      // Their full output only when they find something (attw prints a table for every entry point).
      process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}check-package: ${name} found problems\n`);
      status = 1;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (status === 0) console.log('check-package: publint and attw found no problem');
process.exit(status);
