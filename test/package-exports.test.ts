import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { root } from './helpers.js';

// `npm test` builds dist/ before running tap; this checks what users install.
const built = existsSync(`${root}/dist/esm/lib/index.js`) && existsSync(`${root}/dist/cjs/lib/index.js`);

t.test(
  'the built package loads through its exports map, as ESM and as CommonJS',
  { skip: built ? false : 'dist/ is not built (run `npm run build`)' },
  async (t) => {
    const script = (mod: string): string =>
      `${mod}; const names = ['withHangDetection','createHangDetector','wrapWithHangDetection','HangError','HangwatchError','InvalidOptionError'];` +
      `const missing = names.filter((n) => typeof h[n] !== 'function'); if (missing.length) { console.log('missing ' + missing); process.exit(1); }` +
      `h.withHangDetection(() => 7, { timeoutMs: 1000 }).then((v) => console.log('ok ' + v));`;
    const esm = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', script("import * as h from 'hangwatch'")],
      { cwd: root, encoding: 'utf8' },
    );
    t.equal(esm.trim(), 'ok 7', 'import');
    const cjs = execFileSync(process.execPath, ['-e', script("const h = require('hangwatch')")], {
      cwd: root,
      encoding: 'utf8',
    });
    t.equal(cjs.trim(), 'ok 7', 'require');
  },
);
