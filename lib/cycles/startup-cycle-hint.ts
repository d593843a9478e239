/**
 * The preload's hint for a start-up error caused by an import cycle: an ESM temporal-dead-zone
 * `ReferenceError` ("Cannot access 'X' before initialization") or an error thrown while modules
 * are evaluated (a CommonJS module used while partially loaded: "x is not a function", an
 * undefined export). It finds an import cycle through the files of the error's stack, from the
 * program's entry file, and prints it when the process exits. It only observes
 * (`uncaughtExceptionMonitor`): the program fails exactly as it would without it.
 */
import { writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { isNodeInternal, parseV8Stack } from '../capture/stack-frame.js';
import { cycleThrough, type ImportCycle } from './find-cycles.js';
import { formatCycle } from './format-cycle.js';
import { buildImportGraph } from './import-graph.js';

const TDZ = /Cannot access '([^']+)' before initialization/;
const MODULE_EVALUATION =
  /node:internal\/modules\/esm\/module_job|Module\._compile|node:internal\/modules\/cjs\/loader/;

/** The cycle behind `error`, if it is a start-up error of a file on an import cycle reachable from `entry`. */
export function importCycleOf(
  error: unknown,
  entry: string,
): { cycle: ImportCycle; tdzName: string | undefined } | undefined {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return undefined;
  const tdzName = TDZ.exec(error.message)?.[1];
  if (!tdzName && !MODULE_EVALUATION.test(error.stack)) return undefined;
  const files = parseV8Stack(error.stack)
    .filter((f) => !isNodeInternal(f))
    .map((f) => resolve(f.file));
  if (files.length === 0) return undefined;
  const graph = buildImportGraph(entry);
  for (const file of files) {
    if (!graph.edges.has(file)) continue;
    const cycle = cycleThrough(graph, file);
    if (cycle) return { cycle: rotateTo(cycle, entryFirst(cycle, graph.entry)), tdzName };
  }
  return undefined;
}

/** Print the hint once (from the exit event, which Node emits before it prints the entry module's uncaught error) when the program dies of an import-cycle error at start-up. */
export function installStartupCycleHint(entry: string | undefined): void {
  if (!entry) return;
  let hinted = false;
  process.on('uncaughtExceptionMonitor', (error) => {
    if (hinted) return;
    let found: ReturnType<typeof importCycleOf>;
    try {
      found = importCycleOf(error, resolve(entry));
    } catch {
      return; // a hint must never add a failure
    }
    if (!found) return;
    hinted = true;
    const { cycle, tdzName } = found;
    const text =
      `hangwatch: this start-up error comes from an import cycle:\n  ${formatCycle(cycle)}\n` +
      (tdzName
        ? `  '${tdzName}' was read while the module that declares it was still loading (it imports, through the cycle, the module that read it).\n`
        : '  a module of the cycle was used while another one was still loading (a CommonJS export is undefined until its module finishes).\n') +
      '  Break the cycle: move what both sides need into a module of its own, or defer the use to a function call. `hangwatch cycles <entry>` lists every cycle.\n';
    process.once('exit', () => {
      try {
        writeSync(2, text);
      } catch {
        // stderr closed
      }
    });
  });
}

function entryFirst(cycle: ImportCycle, entry: string): number {
  const i = cycle.findIndex((s) => s.file === entry);
  return Math.max(i, 0);
}

function rotateTo(cycle: ImportCycle, start: number): ImportCycle {
  return [...cycle.slice(start), ...cycle.slice(0, start)];
}
