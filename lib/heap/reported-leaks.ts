/**
 * Step 2 of leak finding: in breadth-first order of the retainer tree (parents first), which leaked
 * objects to report (not noise, not ignored), and the topmost reported object on each node's path —
 * an object reached through another leaked object is attributed to it. Objects only weakly reachable
 * (they go at the next GC) are never reached.
 */
import type { HeapNode, HeapSnapshot } from './heap-snapshot.js';
import { hangwatchEdges, internalClasses, metadataNodes, noiseRoots } from './leak-noise.js';

/** `top` of a node with no reported object above it. */
export const NO_TOP = 0xffffffff;

export interface ReportedLeaks {
  /** 1 for each reported node ordinal. */
  reported: Uint8Array;
  /** The topmost reported object on each node's path from the roots, NO_TOP when none. */
  top: Uint32Array;
  reportedCount: number;
}

export interface ReportOptions {
  /** Report V8 internals too. */
  includeInternal: boolean;
  ignore: ((node: HeapNode) => boolean) | undefined;
}

export function reportedLeaks(final: HeapSnapshot, leaked: Uint8Array, options: ReportOptions): ReportedLeaks {
  const n = final.nodeCount;
  const tree = final.retainerTree();
  const { classOf, names } = final.classTable();
  const noiseClass = internalClasses(names);
  const noiseRoot = noiseRoots(final);
  const metadata = metadataNodes(final);
  const reported = new Uint8Array(n);
  const underNoise = new Uint8Array(n);
  const top = new Uint32Array(n).fill(NO_TOP);
  const { order, reached, parentNode } = tree;
  let reportedCount = 0;
  const ownEdge = hangwatchEdges(final);
  for (let i = 1; i < reached; i++) {
    const v = order[i]!;
    const p = parentNode[v]!;
    underNoise[v] = underNoise[p]! | noiseRoot[p]! | ownEdge(tree.parentEdge[v]!);
    top[v] = top[p] !== NO_TOP ? top[p]! : reported[p] ? p : NO_TOP;
    if (!leaked[v]) continue;
    if (!options.includeInternal && (underNoise[v] || noiseClass[classOf[v]!] || metadata[p])) continue;
    if (options.ignore?.(final.node(v))) continue;
    reported[v] = 1;
    reportedCount++;
  }
  return { reported, top, reportedCount };
}
