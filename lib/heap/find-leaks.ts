/**
 * `findLeaks({ baseline, target, final })`: the three-snapshot method (memlab, DevTools' "objects allocated
 * between snapshots"). Take a snapshot, run the suspected action (target), run it again or undo it (final).
 * Leaked = objects created after the baseline, present in the target and still alive in the final snapshot.
 *
 * In the final snapshot each leaked object gets its shortest retainer path from the GC roots. Internal V8
 * objects (hidden, code, shapes, contexts, backing arrays) are dropped as noise. An object reached through
 * another leaked object is attributed to it ("holds"), so each leak shows once, at its top: the objects
 * left are clustered by their normalised retainer path and ranked by retained size.
 *
 * `analyzeLeaks` runs the steps: leaked-objects.ts, reported-leaks.ts (with the noise of
 * leak-noise.ts), leak-clusters.ts (with the paths of leak-path.ts).
 */
import { InvalidOptionError } from '../errors.js';
import { booleanOption, functionOption, numberOption, optionalObject, optionKeys } from '../validate.js';
import { NodeIdIndex } from './id-index.js';
import { PathShaper } from './path-shape.js';
import { HeapSnapshot, type HeapNode } from './heap-snapshot.js';
import { clusterLeaks, describeCluster, type LeakCluster } from './leak-clusters.js';
import { leakedObjects } from './leaked-objects.js';
import { loadHeapSnapshot, loadHeapSnapshotIds, type LoadProgress } from './load-heap-snapshot.js';
import { reportedLeaks } from './reported-leaks.js';

export type { LeakCluster } from './leak-clusters.js';
export { formatLeakPath, type FormatLeakPathOptions, type LeakPathStep } from './leak-path.js';

const FIND_LEAKS_OPTION_KEYS = optionKeys<FindLeaksOptions>({
  baseline: true,
  target: true,
  final: true,
  includeInternal: true,
  ignore: true,
  minRetainedSize: true,
  maxClusters: true,
  onProgress: true,
});

export type SnapshotInput = HeapSnapshot | string;

export interface FindLeaksProgress {
  phase: 'baseline' | 'target' | 'final' | 'analyze';
  /** Bytes read of the snapshot being loaded (0 for `analyze`). */
  bytesRead: number;
  totalBytes: number;
}

export interface FindLeaksOptions {
  baseline: SnapshotInput;
  target: SnapshotInput;
  final: SnapshotInput;
  /** Report V8 internals too (hidden objects, code, shapes, contexts, backing arrays). Default false. */
  includeInternal?: boolean;
  /** Return true to drop an object as known noise (it is then neither reported nor counted in "holds"). */
  ignore?: (node: HeapNode) => boolean;
  /** Drop clusters retaining fewer bytes than this. Default 0. */
  minRetainedSize?: number;
  /** Keep at most this many clusters (largest first). Default 50. */
  maxClusters?: number;
  onProgress?: (progress: FindLeaksProgress) => void;
}

export interface LeakReport {
  clusters: LeakCluster[];
  /** Objects created between baseline and target and alive in final, before filtering. */
  leakedCount: number;
  /** Leaked objects that passed the noise filters. */
  reportedCount: number;
  /** Sum of the clusters' retained sizes (after `minRetainedSize` and `maxClusters`). */
  retainedSize: number;
  /** Clusters dropped by `minRetainedSize` or `maxClusters`. */
  droppedClusters: number;
  /** Reasons to doubt the result, e.g. snapshots that do not come from one process. */
  warnings: string[];
}

export async function findLeaks(options: FindLeaksOptions): Promise<LeakReport> {
  const opts = optionalObject<FindLeaksOptions>('options', options, FIND_LEAKS_OPTION_KEYS);
  if (options === undefined)
    throw new InvalidOptionError('options', 'an object with baseline, target and final', options);
  for (const key of ['baseline', 'target', 'final'] as const) {
    const v = opts[key];
    if (!(v instanceof HeapSnapshot) && (typeof v !== 'string' || v.length === 0)) {
      throw new InvalidOptionError(key, 'a HeapSnapshot or a snapshot file path', v);
    }
  }
  const includeInternal = booleanOption('includeInternal', opts.includeInternal, false);
  const ignore = functionOption<(node: HeapNode) => boolean>('ignore', opts.ignore);
  const minRetainedSize = numberOption('minRetainedSize', opts.minRetainedSize, 0, { min: 0 });
  const maxClusters = numberOption('maxClusters', opts.maxClusters, 50, { min: 1, integer: true });
  const onProgress = functionOption<(p: FindLeaksProgress) => void>('onProgress', opts.onProgress);

  // Only the ids of baseline and target are needed: their edges and strings are never parsed.
  const baselineIds = await idsOf(opts.baseline!, 'baseline', onProgress);
  const targetIds = await idsOf(opts.target!, 'target', onProgress);
  const final = await load(opts.final!, 'final', onProgress);
  onProgress?.({ phase: 'analyze', bytesRead: 0, totalBytes: 0 });
  return analyzeLeaks(final, baselineIds, targetIds, { includeInternal, ignore, minRetainedSize, maxClusters });
}

async function load(
  input: SnapshotInput,
  phase: FindLeaksProgress['phase'],
  onProgress?: (p: FindLeaksProgress) => void,
): Promise<HeapSnapshot> {
  if (input instanceof HeapSnapshot) return input;
  return loadHeapSnapshot(
    input,
    onProgress
      ? { onProgress: (p: LoadProgress) => onProgress({ phase, bytesRead: p.bytesRead, totalBytes: p.totalBytes }) }
      : undefined,
  );
}

async function idsOf(
  input: SnapshotInput,
  phase: FindLeaksProgress['phase'],
  onProgress?: (p: FindLeaksProgress) => void,
): Promise<NodeIdIndex> {
  if (input instanceof HeapSnapshot) return input.idIndex();
  const ids = await loadHeapSnapshotIds(
    input,
    onProgress
      ? { onProgress: (p: LoadProgress) => onProgress({ phase, bytesRead: p.bytesRead, totalBytes: p.totalBytes }) }
      : undefined,
  );
  return new NodeIdIndex(ids);
}

interface AnalyzeOptions {
  includeInternal: boolean;
  ignore: ((node: HeapNode) => boolean) | undefined;
  minRetainedSize: number;
  maxClusters: number;
}

/** The analysis on the final snapshot, given the id sets of the other two. */
export function analyzeLeaks(
  final: HeapSnapshot,
  baselineIds: NodeIdIndex,
  targetIds: NodeIdIndex,
  options: AnalyzeOptions,
): LeakReport {
  const { retainedSize } = final.computeDominators();
  const { leaked, leakedCount, warnings } = leakedObjects(final, baselineIds, targetIds);
  const reported = reportedLeaks(final, leaked, options);
  const shaper = new PathShaper(final);
  const all = clusterLeaks(final, reported, retainedSize, shaper).sort(
    (a, b) => b.retained - a.retained || b.members.length - a.members.length,
  );
  const kept = all.filter((c) => c.retained >= options.minRetainedSize).slice(0, options.maxClusters);
  const clusters = kept.map((c) => describeCluster(final, c, retainedSize, shaper));
  return {
    clusters,
    leakedCount,
    reportedCount: reported.reportedCount,
    retainedSize: clusters.reduce((sum, c) => sum + c.retainedSize, 0),
    droppedClusters: all.length - kept.length,
    warnings,
  };
}
