/**
 * `findLeaks({ baseline, target, final })`: the three-snapshot method (memlab, DevTools' "objects allocated
 * between snapshots"). Take a snapshot, run the suspected action (target), run it again or undo it (final).
 * Leaked = objects created after the baseline, present in the target and still alive in the final snapshot.
 *
 * In the final snapshot each leaked object gets its shortest retainer path from the GC roots. Internal V8
 * objects (hidden, code, shapes, contexts, backing arrays) are dropped as noise. An object reached through
 * another leaked object is attributed to it ("holds"), so each leak shows once, at its top: the objects
 * left are clustered by their normalised retainer path and ranked by retained size.
 */
import { InvalidOptionError } from '../errors.js';
import { booleanOption, functionOption, numberOption, optionalObject, optionKeys, requiredArray } from '../validate.js';
import { NodeIdIndex } from './id-index.js';
import { PathShaper } from './path-shape.js';
import { userPathStart } from './user-path.js';
import { HeapSnapshot, type HeapNode } from './heap-snapshot.js';
import { loadHeapSnapshot, loadHeapSnapshotIds, type LoadProgress } from './load-heap-snapshot.js';

const FIND_LEAKS_OPTION_KEYS = optionKeys<FindLeaksOptions>({ baseline: true, target: true, final: true, includeInternal: true, ignore: true, minRetainedSize: true, maxClusters: true, onProgress: true });

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

export interface LeakPathStep {
  /** Display name: constructor, `fn()` for closures, `(GC roots)`… */
  name: string;
  type: string;
  className: string;
  id: number;
  /**
   * The edge from the previous step to this node (null for the first step); `collapsed` says how it
   * reads in the cluster's path shape (`[]` an index, `<key>` a dynamic property name), when it does.
   */
  edge: { type: string; name: string | number; collapsed?: '[]' | '<key>' } | null;
}

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

const NONE = 0xffffffff;

export async function findLeaks(options: FindLeaksOptions): Promise<LeakReport> {
  const opts = optionalObject<FindLeaksOptions>('options', options, FIND_LEAKS_OPTION_KEYS);
  if (options === undefined) throw new InvalidOptionError('options', 'an object with baseline, target and final', options);
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

async function load(input: SnapshotInput, phase: FindLeaksProgress['phase'], onProgress?: (p: FindLeaksProgress) => void): Promise<HeapSnapshot> {
  if (input instanceof HeapSnapshot) return input;
  return loadHeapSnapshot(input, onProgress ? { onProgress: (p: LoadProgress) => onProgress({ phase, bytesRead: p.bytesRead, totalBytes: p.totalBytes }) } : undefined);
}

async function idsOf(input: SnapshotInput, phase: FindLeaksProgress['phase'], onProgress?: (p: FindLeaksProgress) => void): Promise<NodeIdIndex> {
  if (input instanceof HeapSnapshot) return input.idIndex();
  const ids = await loadHeapSnapshotIds(input, onProgress ? { onProgress: (p: LoadProgress) => onProgress({ phase, bytesRead: p.bytesRead, totalBytes: p.totalBytes }) } : undefined);
  return new NodeIdIndex(ids);
}

interface AnalyzeOptions {
  includeInternal: boolean;
  ignore: ((node: HeapNode) => boolean) | undefined;
  minRetainedSize: number;
  maxClusters: number;
}

/** The analysis on the final snapshot, given the id sets of the other two. */
export function analyzeLeaks(final: HeapSnapshot, baselineIds: NodeIdIndex, targetIds: NodeIdIndex, options: AnalyzeOptions): LeakReport {
  const n = final.nodeCount;
  const raw = final.raw;
  const tree = final.retainerTree();
  const { retainedSize } = final.computeDominators();
  const { classOf, names } = final.classTable();
  const noiseClass = internalClasses(names);

  // 1. leaked objects
  const leaked = new Uint8Array(n);
  let leakedCount = 0;
  let inBaseline = 0;
  for (let v = 0; v < n; v++) {
    const id = raw.nodeId[v]!;
    if (baselineIds.has(id)) {
      inBaseline++;
      continue;
    }
    if (!targetIds.has(id)) continue;
    leaked[v] = 1;
    leakedCount++;
  }
  const warnings: string[] = [];
  if (n > 0 && inBaseline < 0.1 * n) {
    warnings.push(
      `only ${((inBaseline / n) * 100).toFixed(1)}% of the objects in the final snapshot exist in the baseline: object ids match only between snapshots of one process, taken without an inspector session being closed in between`,
    );
  }

  // 2. in breadth-first order (parents first): which leaked objects to report, and the topmost reported
  //    object on each node's path. Objects only weakly reachable (they go at the next GC) are never reached.
  const noiseRoot = noiseRoots(final);
  const metadata = metadataNodes(final);
  const reported = new Uint8Array(n);
  const underNoise = new Uint8Array(n);
  const top = new Uint32Array(n).fill(NONE);
  const { order, reached, parentNode } = tree;
  let reportedCount = 0;
  const ownEdge = hangwatchEdges(final);
  for (let i = 1; i < reached; i++) {
    const v = order[i]!;
    const p = parentNode[v]!;
    underNoise[v] = underNoise[p]! | noiseRoot[p]! | ownEdge(tree.parentEdge[v]!);
    top[v] = top[p] !== NONE ? top[p]! : reported[p] ? p : NONE;
    if (!leaked[v]) continue;
    if (!options.includeInternal && (underNoise[v] || noiseClass[classOf[v]!] || metadata[p])) continue;
    if (options.ignore?.(final.node(v))) continue;
    reported[v] = 1;
    reportedCount++;
  }

  // 3. cluster the top-level leaked objects by retainer path
  interface Building {
    key: string;
    className: string;
    members: number[];
    retained: number;
    self: number;
    holds: Map<string, { count: number; selfSize: number }>;
  }
  const clusters = new Map<string, Building>();
  const clusterOfFrontier = new Map<number, Building>();
  const shaper = new PathShaper(final);
  for (let i = 0; i < reached; i++) {
    const v = order[i]!;
    if (!reported[v] || top[v] !== NONE) continue;
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
    if (!reported[v] || top[v] === NONE) continue;
    const c = clusterOfFrontier.get(top[v]!)!;
    const label = holdLabel(final, v, names[classOf[v]!]!);
    const h = c.holds.get(label);
    if (h) {
      h.count++;
      h.selfSize += raw.nodeSelfSize[v]!;
    } else c.holds.set(label, { count: 1, selfSize: raw.nodeSelfSize[v]! });
  }

  const all = [...clusters.values()].sort((a, b) => b.retained - a.retained || b.members.length - a.members.length);
  const kept = all.filter((c) => c.retained >= options.minRetainedSize).slice(0, options.maxClusters);
  const result: LeakCluster[] = kept.map((c) => {
    c.members.sort((a, b) => retainedSize[b]! - retainedSize[a]!);
    const path = leakPath(final, c.members[0]!, shaper);
    return {
      name: path[path.length - 1]!.name,
      className: c.className,
      count: c.members.length,
      retainedSize: c.retained,
      selfSize: c.self,
      path,
      pathText: formatLeakPath(path),
      shapeText: formatLeakPath(path, { shape: true }),
      userPathStart: userPathStart(path),
      holds: [...c.holds.entries()]
        .map(([label, h]) => ({ className: label, count: h.count, selfSize: h.selfSize }))
        .sort((a, b) => b.selfSize - a.selfSize || b.count - a.count),
      sampleIds: c.members.slice(0, 10).map((v) => raw.nodeId[v]!),
    };
  });
  return {
    clusters: result,
    leakedCount,
    reportedCount,
    retainedSize: result.reduce((sum, c) => sum + c.retainedSize, 0),
    droppedClusters: all.length - kept.length,
    warnings,
  };
}

/** Classes that are V8 internals rather than program objects. */
function internalClasses(names: string[]): Uint8Array {
  const out = new Uint8Array(names.length);
  const internalTypes = new Set(['(system)', '(compiled code)', '(synthetic)', '(object shape)', '(array)', '(number)', '(hidden)', '(code)']);
  names.forEach((name, c) => {
    // "Node / …" are Node's C++ objects (embedder graph); their ids follow native addresses and are not stable.
    if (internalTypes.has(name) || name.startsWith('system / ') || name.startsWith('Node / ')) out[c] = 1;
  });
  return out;
}

/** GC sub-roots whose objects are V8 bookkeeping, not program state. */
const NOISE_ROOTS = new Set([
  '(Internalized strings)',
  '(External strings)',
  '(Read-only roots)',
  '(Smi roots)',
  '(Startup object cache)',
  '(Shared heap object cache)',
  '(Compilation cache)',
  '(Builtins)',
  '(Code flusher)',
  '(Weak collections)',
]);

function noiseRoots(snapshot: HeapSnapshot): Uint8Array {
  const out = new Uint8Array(snapshot.nodeCount);
  const synthetic = snapshot.meta.nodeTypes.indexOf('synthetic');
  const { nodeType, nodeName, strings } = snapshot.raw;
  for (let v = 0; v < snapshot.nodeCount; v++) {
    if (nodeType[v] === synthetic && NOISE_ROOTS.has(strings[nodeName[v]!]!)) out[v] = 1;
  }
  return out;
}

/**
 * hangwatch keeps its process-wide state under `Symbol.for('hangwatch.…')` keys (its record of
 * its own pauses, for one): what hangs there is the profiler's, not the program's.
 */
function hangwatchEdges(snapshot: HeapSnapshot): (e: number) => 0 | 1 {
  const { strings, edgeType, edgeNameOrIndex } = snapshot.raw;
  const property = snapshot.meta.edgeTypes.indexOf('property');
  const own = Uint8Array.from(strings, (s) => (s.startsWith('<symbol hangwatch.') ? 1 : 0));
  return (e) => (edgeType[e] === property && own[edgeNameOrIndex[e]!] ? 1 : 0);
}

/** Objects held by these are V8 metadata (literal boilerplates kept by allocation sites, constants of compiled code). */
const METADATA_HOLDERS = new Set(['system / AllocationSite', 'system / FeedbackVector', 'system / FeedbackCell', 'system / ScriptContextTable', 'system / Script']);

function metadataNodes(snapshot: HeapSnapshot): Uint8Array {
  const { nodeType, nodeName, strings } = snapshot.raw;
  const code = snapshot.meta.nodeTypes.indexOf('code');
  const holderName = Uint8Array.from(strings, (s) => (METADATA_HOLDERS.has(s) ? 1 : 0));
  const out = new Uint8Array(snapshot.nodeCount);
  for (let v = 0; v < snapshot.nodeCount; v++) if (nodeType[v] === code || holderName[nodeName[v]!]) out[v] = 1;
  return out;
}

/** Closures by function name, everything else by class. */
function holdLabel(snapshot: HeapSnapshot, v: number, className: string): string {
  return className === '(closure)' ? displayName(snapshot, v) : className;
}

/** Display name of a node in a path. */
export function displayName(snapshot: HeapSnapshot, v: number): string {
  const type = snapshot.nodeType(v);
  const name = snapshot.nodeName(v);
  switch (type) {
    case 'closure':
      return `${name || '(anonymous)'}()`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'number':
      return '(number)';
    default:
      return name || `(${type})`;
  }
}

function leakPath(snapshot: HeapSnapshot, v: number, shaper: PathShaper): LeakPathStep[] {
  const steps = snapshot.retainerPath(v) ?? [];
  const tree = snapshot.retainerTree();
  return steps.map((s) => {
    const step: LeakPathStep = { name: displayName(snapshot, s.node.ordinal), type: s.node.type, className: s.node.className, id: s.node.id, edge: s.edge };
    const collapsed = s.edge ? shaper.collapse(tree.parentEdge[s.node.ordinal]!, tree.parentNode[s.node.ordinal]!) : null;
    if (step.edge && collapsed) step.edge = { ...step.edge, collapsed };
    return step;
  });
}

function edgeSuffix(edge: NonNullable<LeakPathStep['edge']>, shape: boolean): string {
  if (shape && edge.collapsed === '<key>') return '.<key>';
  if (typeof edge.name === 'number' || /^\d+$/.test(edge.name)) return shape ? '[]' : `[${edge.name}]`;
  if (edge.type === 'context') return ` (context ${edge.name})`;
  return `.${edge.name}`;
}

export interface FormatLeakPathOptions {
  /** The path shape: indices as `[]`, dynamic property names as `<key>`. */
  shape?: boolean;
  /** Start at this step, with `… / ` in front when it is not the first. */
  from?: number;
}

/** `a.x / B[3] / C`: each node followed by the edge that leads to the next one. */
const FORMAT_LEAK_PATH_OPTION_KEYS = optionKeys<FormatLeakPathOptions>({ shape: true, from: true });

export function formatLeakPath(path: LeakPathStep[], options?: FormatLeakPathOptions): string {
  const opts = optionalObject<FormatLeakPathOptions>('options', options, FORMAT_LEAK_PATH_OPTION_KEYS);
  const from = numberOption('options.from', opts.from, 0, { min: 0, integer: true });
  const shape = booleanOption('options.shape', opts.shape, false);
  const text = leakPathSegments(requiredArray('path', path, 'a leak path (an array of steps)'), shape).slice(from).join(' / ');
  return from > 0 ? `… / ${text}` : text;
}

/** The steps of `formatLeakPath`, one string per node. */
export function leakPathSegments(path: LeakPathStep[], shape = false): string[] {
  return path.map((step, i) => (i + 1 < path.length ? step.name + edgeSuffix(path[i + 1]!.edge!, shape) : step.name));
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
