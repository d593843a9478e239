/** An import cycle as one line: `app-main.mjs:1 → app-prices.mjs:1 → app-main.mjs` (each file with the line that imports the next). */
import { displayPath } from '../report/display-path.js';
import type { ImportCycle } from './find-cycles.js';

export function formatCycle(cycle: ImportCycle, base: string = process.cwd()): string {
  const first = cycle[0];
  if (!first) return '';
  return [...cycle.map((s) => `${displayPath(s.file, base)}:${s.line}`), displayPath(first.file, base)].join(' → ');
}
