// Errors: each layer's classes in its errors.ts, each with a literal code that is the one it passes
// to HangwatchError, every class and code listed in docs/errors.md, and `instanceof` holding for an
// error made by another copy of hangwatch (the built CommonJS package next to these sources).
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import * as api from '../lib/index.js';
import { root } from './helpers.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface ErrorClass {
  name: string;
  parent: string;
  file: string;
  body: string;
}

/** Every `class X extends Y {…}` of lib/ and native-free-fallbacks/ (bodies end at the first line that is `}`). */
function classes(): ErrorClass[] {
  const found: ErrorClass[] = [];
  for (const file of ['lib', 'native-free-fallbacks'].flatMap((folder) => sourceFiles(join(root, folder)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /^(?:export )?class (\w+)(?:<[^>]*>)? extends (\w+)(?:<[^>]*>)? \{\n([\s\S]*?)\n\}/gm,
    )) {
      found.push({ name: m[1] as string, parent: m[2] as string, file: relative(root, file), body: m[3] as string });
    }
  }
  return found;
}

/** The subclasses of HangwatchError, however deep. */
function hangwatchErrors(): ErrorClass[] {
  const all = classes();
  const known = new Set(['HangwatchError']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of all) {
      if (known.has(c.parent) && !known.has(c.name)) {
        known.add(c.name);
        grew = true;
      }
    }
  }
  return all.filter((c) => known.has(c.name) && c.name !== 'HangwatchError');
}

const errors = hangwatchErrors();

t.test('the scan finds the error classes', async (t) => {
  t.ok(errors.length >= 30, `${errors.length} HangwatchError subclasses`);
  t.ok(
    errors.some((c) => c.name === 'SnapshotTruncatedError' && c.parent === 'HeapSnapshotFormatError'),
    'subclasses of subclasses too',
  );
});

t.test("each layer's errors are in its errors.ts", async (t) => {
  for (const c of errors) t.match(c.file, /^lib\/(?:[\w-]+\/)?errors\.ts$/, `${c.name} is in ${c.file}`);
});

t.test('each class declares a literal code, the one it passes to HangwatchError', async (t) => {
  for (const c of errors) {
    const declared = /^\s*(?:declare )?readonly code(?:: ([^;=]+))?(?: = ([^;]+))?;/m.exec(c.body);
    t.ok(declared, `${c.name} declares its code`);
    if (!declared) continue;
    const literals = [...(declared[1] ?? declared[2] ?? '').matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1]);
    t.ok(literals.length > 0, `${c.name}: the code's type is made of literals (${declared[0].trim()})`);
    const passed = /super\(\s*'(ERR_[A-Z_]+)'/.exec(c.body);
    if (literals.length === 1) t.equal(passed?.[1], literals[0], `${c.name} passes ${literals[0]}`);
    else
      t.ok(
        errors.filter((sub) => sub.parent === c.name).length === literals.length,
        `${c.name}: one subclass per code of its union`,
      );
  }
});

t.test('docs/errors.md lists every class with its code', async (t) => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8').split('\n');
  for (const c of errors) {
    const row = doc.find((line) => line.startsWith(`| \`${c.name}\` |`));
    t.ok(row, `${c.name} has a row`);
    // A base class with a union of codes (HeapSnapshotFormatError) has its subclasses' rows for them.
    const code = /^\s*(?:declare )?readonly code: '(ERR_[A-Z_]+)';/m.exec(c.body)?.[1];
    if (row && code) t.ok(row.includes(`| \`${code}\` |`), `${c.name}'s row names ${code}`);
  }
});

t.test('every error class at the root is one of the scanned classes', async (t) => {
  const scanned = new Set(errors.map((c) => c.name));
  const exported = Object.entries(api).filter(
    ([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error,
  );
  for (const [name] of exported) t.ok(name === 'HangwatchError' || scanned.has(name), `${name} is in an errors.ts`);
});

const cjs = join(root, 'dist/cjs/lib/index.js');
t.test(
  'instanceof holds for an error made by another copy',
  { skip: existsSync(cjs) ? false : 'dist/ is not built (npm run build)' },
  async (t) => {
    const copy = createRequire(import.meta.url)(cjs) as Record<string, unknown>;
    const exported = Object.entries(api).filter(
      ([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error,
    ) as [string, new (...a: never[]) => Error][];
    t.ok(exported.length > 20, `${exported.length} error classes`);
    for (const [name, cls] of exported) {
      const other = copy[name] as { prototype: object } | undefined;
      if (!other) {
        t.fail(`${name} is missing from the built copy`);
        continue;
      }
      t.not(other, cls, `${name}: the copy is another class`);
      // An instance of the copy's class without running its constructor (each class takes other arguments).
      const error = Object.create(other.prototype) as object;
      t.ok(error instanceof cls, `${name}: the copy's error is an instance of this copy's class`);
      t.ok(error instanceof api.HangwatchError, `${name}: and of HangwatchError`);
      t.ok(error instanceof Error, `${name}: and of Error`);
      const unrelated = name === 'HangError' ? api.UnknownPoolError : api.HangError;
      t.notOk(error instanceof unrelated, `${name}: not of an unrelated class`);
    }
    const truncated = Object.create((copy.SnapshotTruncatedError as { prototype: object }).prototype) as object;
    t.ok(truncated instanceof api.HeapSnapshotFormatError, 'a subclass of a subclass is an instance of its parent');
    t.notOk(truncated instanceof api.SnapshotCorruptError, 'and not of its sibling');
  },
);

// Compile-time: every error class at the root but HangwatchError has a literal `code` type.
type ErrorClassNames = {
  [K in keyof typeof api]: (typeof api)[K] extends abstract new (...args: never[]) => api.HangwatchError ? K : never;
}[keyof typeof api];
type WideCode = {
  [K in Exclude<ErrorClassNames, 'HangwatchError'>]: string extends InstanceType<(typeof api)[K]>['code'] ? K : never;
}[Exclude<ErrorClassNames, 'HangwatchError'>];
const literalCodes: [WideCode] extends [never] ? true : { wideCode: WideCode } = true;
t.ok(literalCodes, 'every exported error class has a literal code type (checked by `npm run typecheck`)');
