/**
 * Step 3 of leak finding: the reported objects at the top of their path, clustered by the shape of
 * their retainer path (path-shape.ts: indices and dynamic keys collapsed, so one growing collection
 * is one cluster), each with what it holds; then a cluster as the report shows it.
 */
import type { HeapSnapshot } from './heap-snapshot.js';
import { displayName, formatLeakPath, leakPath, type LeakPathStep } from './leak-path.js';
import type { PathShaper } from './path-shape.js';
import { NO_TOP, type ReportedLeaks } from './reported-leaks.js';
import { userPathStart } from './user-path.js';

export interface LeakCluster {
  /** Display name of the leaked objects at the top of this cluster (e.g. `LeakyObject`, `onData()`). */
  name: string;
  className: string;
  count: number;
  /** Bytes freed if these objects were released (they never dominate one another, so this is exact). */
  retainedSize: number;
  selfSize: number;
  /** Retainer path of the largest member (the example), from the GC roots to it. */
  path: LeakPathStep[];
  /** The path as one line: `global.cache / Map.table / (object elements)[12] / LeakyObject`. */
  pathText: string;
  /**
   * What every member's path has in common, as one line: indices and dynamic property names
   * collapsed (`MemoryStore.sessions / Object.<key> / (string)`). Members are clustered by it.
   */
  shapeText: string;
  /**
   * Index in `path` of the first step a user recognises: the first object of a class the program
   * (or a package) defined, a closure variable or a global variable; 0 when there is none.
   */
  userPathStart: number;
  /** Other leaked objects reached only through this cluster's objects, per class, most first. */
  holds: { className: string; count: number; selfSize: number }[];
  /** Ids of up to 10 members, largest first (look them up in DevTools with `@id`). */
  sampleIds: number[];
}

/** A cluster being gathered: its members (node ordinals) and sums. */
export interface LeakClusterDraft {
  key: string;
  className: string;
  members: number[];
  retained: number;
  self: number;
  holds: Map<string, { count: number; selfSize: number }>;
}

/** The clusters of the reported objects at the top of their path, in breadth-first order of their first member. */
export function clusterLeaks(
  final: HeapSnapshot,
  { reported, top }: ReportedLeaks,
  retainedSize: Float64Array,
  shaper: PathShaper,
): LeakClusterDraft[] {
  const n = final.nodeCount;
  const raw = final.raw;
  const { order, reached } = final.retainerTree();
  const { classOf, names } = final.classTable();
  const clusters = new Map<string, LeakClusterDraft>();
  const clusterOfFrontier = new Map<number, LeakClusterDraft>();
  for (let i = 0; i < reached; i++) {
    const v = order[i]!;
    if (!reported[v] || top[v] !== NO_TOP) continue;
    const key = pathKey(final, v, classOf, shaper);
    let c = clusters.get(key);
    if (!c) {
      c = { key, className: names[classOf[v]!]!, members: [], retained: 0, self: 0, holds: new Map() };
      clusters.set(key, c);
    }
    c.members.push(v);
    c.retained += retainedSize[v]!;
    c.self += raw.nodeSelfSize[v]!;
    clusterOfFrontier.set(v, c);
  }
  for (let v = 0; v < n; v++) {
    if (!reported[v] || top[v] === NO_TOP) continue;
    const c = clusterOfFrontier.get(top[v]!)!;
    const label = holdLabel(final, v, names[classOf[v]!]!);
    const h = c.holds.get(label);
    if (h) {
      h.count++;
      h.selfSize += raw.nodeSelfSize[v]!;
    } else c.holds.set(label, { count: 1, selfSize: raw.nodeSelfSize[v]! });
  }
  return [...clusters.values()];
}

/** A cluster as the report shows it: its largest member's path is the example. Sorts `draft.members`, largest first. */
export function describeCluster(
  final: HeapSnapshot,
  draft: LeakClusterDraft,
  retainedSize: Float64Array,
  shaper: PathShaper,
): LeakCluster {
  draft.members.sort((a, b) => retainedSize[b]! - retainedSize[a]!);
  const path = leakPath(final, draft.members[0]!, shaper);
  return {
    name: path[path.length - 1]!.name,
    className: draft.className,
    count: draft.members.length,
    retainedSize: draft.retained,
    selfSize: draft.self,
    path,
    pathText: formatLeakPath(path),
    shapeText: formatLeakPath(path, { shape: true }),
    userPathStart: userPathStart(path),
    holds: [...draft.holds.entries()]
      .map(([label, h]) => ({ className: label, count: h.count, selfSize: h.selfSize }))
      .sort((a, b) => b.selfSize - a.selfSize || b.count - a.count),
    sampleIds: draft.members.slice(0, 10).map((v) => final.raw.nodeId[v]!),
  };
}

/** Closures by function name, everything else by class. */
function holdLabel(snapshot: HeapSnapshot, v: number, className: string): string {
  return className === '(closure)' ? displayName(snapshot, v) : className;
}

/** Retainer path shape of a node (see path-shape.ts): classes and edge names, indices and dynamic keys collapsed. */
function pathKey(snapshot: HeapSnapshot, v: number, classOf: Uint32Array, shaper: PathShaper): string {
  const tree = snapshot.retainerTree();
  const parts: string[] = [displayName(snapshot, v)];
  let x = v;
  while (x !== snapshot.root) {
    const e = tree.parentEdge[x]!;
    const holder = tree.parentNode[x]!;
    parts.push(shaper.collapse(e, holder) ?? `${snapshot.raw.edgeType[e]}:${snapshot.edgeName(e)}`);
    x = holder;
    parts.push(String(classOf[x]));
  }
  return parts.join('\u0001');
}
