/**
 * Entry point `hangwatch/heap`: the heap-snapshot graph and parser types behind `HeapSnapshot`,
 * `diffHeapSnapshots` and `findLeaks` (nodes, edges, retainer steps, class summaries, leak clusters
 * and their paths), ids-only loading, and `formatLeakPath`. Capturing, loading, diffing and
 * finding leaks are at the root (`hangwatch`).
 */
export { loadHeapSnapshotIds } from './load-heap-snapshot.js';
export type { HeapNode, HeapEdge, RetainerStep, ClassSummary, NodeRef } from './heap-snapshot.js';
export type { SnapshotMeta, RawHeapSnapshot } from './raw-heap-snapshot.js';
export type { ClassDiff } from './heap-diff.js';
export { formatLeakPath, type FormatLeakPathOptions, type LeakPathStep } from './leak-path.js';
export type { LeakCluster } from './leak-clusters.js';
