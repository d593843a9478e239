/**
 * Import cycles of an import graph: for every file that is on a cycle, the shortest cycle
 * through it (found breadth-first inside its strongly connected component), each cycle once.
 * Every file on a cycle is on at least one listed cycle; listing every elementary cycle could be
 * exponential, so this is the useful, bounded subset.
 */
import type { ImportGraph } from './import-graph.js';

export interface CycleStep {
  file: string;
  /** The line of `file` that imports the next file of the cycle. */
  line: number;
}

/** One cycle: `steps[0]` imports `steps[1]` … and the last imports `steps[0]` again. */
export type ImportCycle = CycleStep[];

export const MAX_CYCLES = 100;

export function findCycles(graph: ImportGraph, maxCycles = MAX_CYCLES): ImportCycle[] {
  const components = stronglyConnected(graph);
  const cycles: ImportCycle[] = [];
  const seen = new Set<string>();
  for (const component of components) {
    for (const start of component) {
      if (cycles.length >= maxCycles) return cycles;
      const cycle = shortestCycleThrough(graph, start, component);
      if (!cycle) continue;
      const key = canonicalKey(cycle);
      if (seen.has(key)) continue;
      seen.add(key);
      cycles.push(cycle);
    }
  }
  return cycles;
}

/** The shortest cycle through `file` that contains it (undefined when it is on none). */
export function cycleThrough(graph: ImportGraph, file: string): ImportCycle | undefined {
  for (const component of stronglyConnected(graph))
    if (component.includes(file)) return shortestCycleThrough(graph, file, component);
  return undefined;
}

function shortestCycleThrough(graph: ImportGraph, start: string, component: string[]): ImportCycle | undefined {
  const inside = new Set(component);
  // Breadth-first from start's imports back to start, inside the component.
  const parent = new Map<string, { from: string; line: number }>();
  const queue: string[] = [];
  for (const edge of graph.edges.get(start) ?? []) {
    if (edge.to === start) return [{ file: start, line: edge.line }];
    if (!inside.has(edge.to) || parent.has(edge.to)) continue;
    parent.set(edge.to, { from: start, line: edge.line });
    queue.push(edge.to);
  }
  for (let head = 0; head < queue.length; head++) {
    const file = queue[head] as string;
    for (const edge of graph.edges.get(file) ?? []) {
      if (edge.to === start) {
        const steps: CycleStep[] = [{ file, line: edge.line }];
        for (let at = file; at !== start; ) {
          const p = parent.get(at) as { from: string; line: number };
          steps.unshift({ file: p.from, line: p.line });
          at = p.from;
        }
        return steps;
      }
      if (!inside.has(edge.to) || parent.has(edge.to) || edge.to === start) continue;
      parent.set(edge.to, { from: file, line: edge.line });
      queue.push(edge.to);
    }
  }
  return undefined;
}

function canonicalKey(cycle: ImportCycle): string {
  const files = cycle.map((s) => s.file);
  let best = 0;
  for (let i = 1; i < files.length; i++) if ((files[i] as string) < (files[best] as string)) best = i;
  return [...files.slice(best), ...files.slice(0, best)].join('\0');
}

/** Tarjan's algorithm, iterative; only components that hold a cycle (more than one file, or a self-import). */
function stronglyConnected(graph: ImportGraph): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const root of graph.edges.keys()) {
    if (indexOf.has(root)) continue;
    const work: Array<{ file: string; next: number }> = [{ file: root, next: 0 }];
    indexOf.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1] as { file: string; next: number };
      const edges = graph.edges.get(top.file) ?? [];
      if (top.next < edges.length) {
        const to = (edges[top.next++] as { to: string }).to;
        if (!graph.edges.has(to)) continue;
        if (!indexOf.has(to)) {
          indexOf.set(to, index);
          low.set(to, index++);
          stack.push(to);
          onStack.add(to);
          work.push({ file: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(top.file, Math.min(low.get(top.file) as number, indexOf.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.file, Math.min(low.get(parent.file) as number, low.get(top.file) as number));
      if (low.get(top.file) === indexOf.get(top.file)) {
        const component: string[] = [];
        let f: string;
        do {
          f = stack.pop() as string;
          onStack.delete(f);
          component.push(f);
        } while (f !== top.file);
        const selfImport = component.length === 1 && edges.some((e) => e.to === top.file);
        if (component.length > 1 || selfImport) out.push(component.reverse());
      }
    }
  }
  return out;
}
