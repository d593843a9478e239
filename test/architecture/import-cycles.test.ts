// No import cycles in the package, type-only imports included: each module can be read, tested
// and loaded on its own, and backends depend on interfaces, never the other way round.
// Lazy `import()` calls (the CLI loads each subcommand on demand) are not edges: they run later.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FOLDERS = ['lib', 'native-free-fallbacks'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Static imports and re-exports (`import … from`, `import type … from`, `export … from`, `import '…'`). */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;

export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(STATIC_IMPORT)) {
      const spec = match[1] as string;
      targets.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search, each reported once (from its smallest file). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0] as string);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' → '), canonical);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

t.test('the checker finds a cycle when there is one', async (t) => {
  const graph = new Map([
    ['/a.ts', ['/b.ts']],
    ['/b.ts', ['/c.ts']],
    ['/c.ts', ['/a.ts', '/d.ts']],
    ['/d.ts', []],
  ]);
  t.same(findCycles(graph), [['/a.ts', '/b.ts', '/c.ts']]);
  t.same(
    findCycles(
      new Map([
        ['/a.ts', ['/b.ts']],
        ['/b.ts', []],
      ]),
    ),
    [],
  );
});

t.test('lib/ and native-free-fallbacks/ have no import cycle (type-only imports included)', async (t) => {
  const files = FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)));
  t.ok(files.length > 50, `read ${files.length} modules`);
  const cycles = findCycles(importGraph(files)).map((cycle) =>
    [...cycle, cycle[0]].map((f) => relative(ROOT, f as string)).join(' → '),
  );
  t.same(cycles, [], cycles.length ? `import cycles:\n${cycles.join('\n')}` : 'no cycle');
});
