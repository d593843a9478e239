/**
 * `hangwatch cycles <entry>`: every import cycle reachable from an entry file, found statically
 * (ESM, CommonJS, TypeScript sources). Exit code 1 when there is one — usable in CI.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { findCycles, MAX_CYCLES } from '../cycles/find-cycles.js';
import { formatCycle } from '../cycles/format-cycle.js';
import { buildImportGraph } from '../cycles/import-graph.js';
import { parseCommandLine } from './cli-args.js';
import { UsageError } from './errors.js';

export const usage = `Usage: hangwatch cycles [options] <entry file>

Lists the import cycles reachable from <entry file> through relative imports (ESM import/export
from, CommonJS require, in .js/.mjs/.cjs/.ts/.tsx/.mts/.cts sources; packages are not followed).
Each cycle is one line: every file with the line that imports the next, back to the first.
A cycle makes a module run while another is half-initialised: "Cannot access 'X' before
initialization" (ESM) or an export that is undefined (CommonJS), depending on import order.

Options:
  --json        one JSON object on stdout: { entry, files, cycles: [[{ file, line }, ...], ...] }
  -h, --help    this help

Exit codes: 0 no cycle, 1 at least one cycle, 2 bad arguments (or the entry file does not exist).`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } }, { allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length ? `one entry file expected; got ${positionals.join(' ')}` : 'an entry file is required',
    );
  const entry = resolve(positionals[0] as string);
  if (!existsSync(entry)) throw new UsageError(`no such file: ${positionals[0]}`);
  const graph = buildImportGraph(entry);
  const cycles = findCycles(graph);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ entry, files: graph.edges.size, cycles })}\n`);
  } else if (cycles.length === 0) {
    process.stdout.write(
      `hangwatch cycles: no import cycle among the ${graph.edges.size} file(s) reachable from ${positionals[0]}\n`,
    );
  } else {
    const more = cycles.length >= MAX_CYCLES ? ` (the first ${MAX_CYCLES})` : '';
    process.stdout.write(
      `hangwatch cycles: ${cycles.length} import cycle(s)${more} among the ${graph.edges.size} file(s) reachable from ${positionals[0]}:\n`,
    );
    for (const cycle of cycles) process.stdout.write(`  ${formatCycle(cycle)}\n`);
  }
  for (const [file, why] of graph.unreadable)
    process.stderr.write(`hangwatch cycles: could not read ${file}: ${why}\n`);
  return cycles.length > 0 ? 1 : 0;
}
