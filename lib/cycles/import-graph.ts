/**
 * The static import graph of a program's own files: from an entry file, every relative import —
 * ESM `import … from`, `import '…'`, `export … from`, CommonJS `require('…')`, in JavaScript and
 * TypeScript sources — resolved to a file the way Node and TypeScript do (`./x.js` may be
 * `./x.ts`; a folder means its index). Package imports (`express`, `node:fs`) are not followed:
 * a cycle is in the program's own files. `import type` and dynamic `import()` are left out: they
 * do not run a module while it loads.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';

export interface ImportEdge {
  /** The imported file (absolute). */
  to: string;
  /** The line of the import in the importing file (1-based). */
  line: number;
}

export interface ImportGraph {
  entry: string;
  /** Every file reached, with its imports in source order. */
  edges: Map<string, ImportEdge[]>;
  /** Files that could not be read (and why). */
  unreadable: Map<string, string>;
}

/** Files larger than this are not parsed (a generated bundle is no program source). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
// `import … from '…'`, `import '…'`, `export … from '…'`; not `import type` / `export type` (erased).
const STATIC_IMPORT =
  /(?:^|[^.\w$"'`])(?:import|export)\s*(?!\s)(?!type[\s{])(?:[\w$*{}\s,]+?\s*from\s*)?(['"])([^'"\n]+)\1/g;
const REQUIRE = /(?:^|[^.\w$"'`])require\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

export function buildImportGraph(entryFile: string): ImportGraph {
  const entry = resolve(entryFile);
  const edges = new Map<string, ImportEdge[]>();
  const unreadable = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (edges.has(file) || unreadable.has(file)) continue;
    let source: string;
    try {
      if (statSync(file).size > MAX_FILE_BYTES) throw new Error('larger than 5 MiB');
      source = readFileSync(file, 'utf8');
    } catch (error) {
      unreadable.set(file, (error as Error).message);
      continue;
    }
    const list: ImportEdge[] = [];
    for (const { specifier, line } of importsOf(source)) {
      const to = resolveImport(file, specifier);
      if (!to) continue;
      list.push({ to, line });
      if (!edges.has(to)) queue.push(to);
    }
    edges.set(file, list);
  }
  return { entry, edges, unreadable };
}

/** The relative/absolute specifiers a source imports at load time, with their lines. */
export function importsOf(source: string): Array<{ specifier: string; line: number }> {
  const code = blankComments(source);
  const found: Array<{ specifier: string; line: number; at: number }> = [];
  for (const re of [STATIC_IMPORT, REQUIRE]) {
    re.lastIndex = 0;
    for (let m = re.exec(code); m; m = re.exec(code)) {
      const specifier = m[2] as string;
      if (!specifier.startsWith('.') && !isAbsolute(specifier) && !specifier.startsWith('file:')) continue;
      const at = m.index + m[0].indexOf(specifier);
      found.push({ specifier, line: lineAt(code, at), at });
    }
  }
  found.sort((a, b) => a.at - b.at);
  return found.map(({ specifier, line }) => ({ specifier, line }));
}

function lineAt(code: string, index: number): number {
  let line = 1;
  for (let i = code.indexOf('\n'); i >= 0 && i < index; i = code.indexOf('\n', i + 1)) line++;
  return line;
}

/** Comments replaced by spaces (newlines kept, so lines stay put); strings and template literals left alone. */
function blankComments(source: string): string {
  const out = source.split('');
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') out[i++] = ' ';
    } else if (c === '/' && next === '*') {
      out[i++] = ' ';
      out[i++] = ' ';
      while (i < n && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] !== '\n') out[i] = ' ';
        i++;
      }
      if (i < n) {
        out[i++] = ' ';
        out[i++] = ' ';
      }
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < n && source[i] !== c) {
        if (source[i] === '\\') i++;
        else if (c !== '`' && source[i] === '\n') break;
        i++;
      }
      i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** The file a relative import names, or undefined (not found: not followed). */
export function resolveImport(fromFile: string, specifier: string): string | undefined {
  let target: string;
  try {
    target = specifier.startsWith('file:')
      ? new URL(specifier).pathname
      : resolve(dirname(fromFile), specifier.split('?')[0] as string);
  } catch {
    return undefined;
  }
  const candidates = [target];
  const ext = extname(target);
  // TypeScript's ESM convention: `./x.js` in a .ts file is `./x.ts` on disk.
  const tsFor: Record<string, string[]> = {
    '.js': ['.ts', '.tsx'],
    '.mjs': ['.mts'],
    '.cjs': ['.cts'],
    '.jsx': ['.tsx'],
  };
  for (const alt of tsFor[ext] ?? []) candidates.push(target.slice(0, -ext.length) + alt);
  for (const e of EXTENSIONS) candidates.push(target + e);
  for (const e of EXTENSIONS) candidates.push(resolve(target, `index${e}`));
  for (const c of candidates) {
    try {
      if (existsSync(c) && statSync(c).isFile()) return c;
    } catch {
      // next candidate
    }
  }
  return undefined;
}
