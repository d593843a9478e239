/**
 * `HeapSnapshot`: the heap graph of one V8 snapshot, held in typed arrays, with the analyses DevTools
 * offers — dominators and retained sizes, shortest retainer paths from the GC roots, the Summary view
 * grouped by constructor. Nodes are addressed by ordinal (0 = the synthetic root); `node()` gives a view.
 * Analyses are computed on first use and cached.
 */
import { InvalidOptionError } from '../errors.js';
import { computeDominators, type DominatorResult } from './dominators.js';
import { NodeIdIndex } from './id-index.js';
import { computeRetainerTree, NO_EDGE, type PathGraph, type RetainerTree } from './shortest-paths.js';
import type { RawHeapSnapshot, SnapshotMeta } from './raw-heap-snapshot.js';
import { requiredObject } from '../validate.js';

/** A node of the heap graph. */
export interface HeapNode {
  /** Position of the node in the snapshot (stable only within this snapshot). */
  ordinal: number;
  /** V8 object id: stable for the life of the process, so it matches the same object across snapshots. */
  id: number;
  /** V8 node type: `object`, `closure`, `string`, `array`, `hidden`, `code`, `native`, `synthetic`, … */
  type: string;
  /** Constructor name for objects, function name for closures, the value for strings. */
  name: string;
  /** Grouping used by the Summary and Comparison views: the constructor for objects, `(closure)`, `(string)`, `(system)`… */
  className: string;
  selfSize: number;
  edgeCount: number;
}

/** An edge of the heap graph (a reference from one node to another). */
export interface HeapEdge {
  /** `property`, `element`, `context`, `internal`, `hidden`, `shortcut` or `weak`. */
  type: string;
  /** Property or variable name; the index for `element` and `hidden` edges. */
  name: string | number;
  from: number;
  to: number;
}

/** One step of a retainer path: a node and the edge that led to it from the previous step (null for the first). */
export interface RetainerStep {
  node: HeapNode;
  edge: { type: string; name: string | number } | null;
}

/** One row of the Summary view. */
export interface ClassSummary {
  className: string;
  count: number;
  /** Sum of the self sizes of the instances. */
  selfSize: number;
  /** Memory freed if all instances were released: retained sizes of instances not dominated by another instance. */
  retainedSize: number;
}

/** A node, given by ordinal or as a `HeapNode`. */
export type NodeRef = number | { ordinal: number };

export class HeapSnapshot {
  /** The columns as parsed; for advanced analyses. Do not modify. */
  readonly raw: RawHeapSnapshot;
  /** File the snapshot was loaded from, when it was. */
  readonly source: string;
  readonly meta: SnapshotMeta;
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Ordinal of the synthetic root node. */
  readonly root = 0;

  private readonly weakType: number;
  private readonly shortcutType: number;
  private readonly elementType: number;
  private readonly hiddenEdgeType: number;
  private dominators: DominatorResult | null = null;
  private retainerTreeCache: RetainerTree | null = null;
  private idIndexCache: NodeIdIndex | null = null;
  private classes: { classOf: Uint32Array; names: string[] } | null = null;
  private reverse: { first: Uint32Array; edges: Uint32Array; from: Uint32Array } | null = null;

  constructor(raw: RawHeapSnapshot, source = '<memory>') {
    requiredObject(
      'raw.meta',
      requiredObject<RawHeapSnapshot>('raw', raw, 'a parsed heap snapshot (see parseHeapSnapshot)').meta,
      'snapshot metadata',
    );
    this.raw = raw;
    this.source = source;
    this.meta = raw.meta;
    this.nodeCount = raw.nodeCount;
    this.edgeCount = raw.edgeCount;
    const et = raw.meta.edgeTypes;
    this.weakType = et.indexOf('weak');
    this.shortcutType = et.indexOf('shortcut');
    this.elementType = et.indexOf('element');
    this.hiddenEdgeType = et.indexOf('hidden');
  }

  // ---- nodes ----

  /** A view of one node. */
  node(ref: NodeRef): HeapNode {
    const n = this.ordinalOf(ref);
    const raw = this.raw;
    return {
      ordinal: n,
      id: raw.nodeId[n]!,
      type: this.nodeType(n),
      name: this.nodeName(n),
      className: this.className(n),
      selfSize: raw.nodeSelfSize[n]!,
      edgeCount: raw.firstEdge[n + 1]! - raw.firstEdge[n]!,
    };
  }

  nodeType(ref: NodeRef): string {
    return this.meta.nodeTypes[this.raw.nodeType[this.ordinalOf(ref)]!]!;
  }

  nodeName(ref: NodeRef): string {
    return this.raw.strings[this.raw.nodeName[this.ordinalOf(ref)]!]!;
  }

  nodeId(ref: NodeRef): number {
    return this.raw.nodeId[this.ordinalOf(ref)]!;
  }

  selfSize(ref: NodeRef): number {
    return this.raw.nodeSelfSize[this.ordinalOf(ref)]!;
  }

  className(ref: NodeRef): string {
    const c = this.classTable();
    return c.names[c.classOf[this.ordinalOf(ref)]!]!;
  }

  /** The node with this V8 object id, if the snapshot has it. */
  nodeById(id: number): HeapNode | undefined {
    const n = this.idIndex().get(id);
    return n < 0 ? undefined : this.node(n);
  }

  /** All nodes whose class (constructor name, or `(closure)`, `(string)`, … for non-objects) is `constructorName`. */
  nodesBy(constructorName: string): HeapNode[] {
    if (typeof constructorName !== 'string')
      throw new InvalidOptionError('constructorName', 'a string', constructorName);
    const c = this.classTable();
    const cls = c.names.indexOf(constructorName);
    const out: HeapNode[] = [];
    if (cls < 0) return out;
    for (let n = 0; n < this.nodeCount; n++) if (c.classOf[n] === cls) out.push(this.node(n));
    return out;
  }

  // ---- edges ----

  /** Outgoing references of a node. */
  edges(ref: NodeRef): HeapEdge[] {
    const n = this.ordinalOf(ref);
    const out: HeapEdge[] = [];
    const end = this.raw.firstEdge[n + 1]!;
    for (let e = this.raw.firstEdge[n]!; e < end; e++) out.push(this.edge(e, n));
    return out;
  }

  /** Incoming references of a node (built on first call: one reverse index for the whole graph). */
  retainers(ref: NodeRef): HeapEdge[] {
    const n = this.ordinalOf(ref);
    const r = this.reverseIndex();
    const out: HeapEdge[] = [];
    for (let i = r.first[n]!; i < r.first[n + 1]!; i++) out.push(this.edge(r.edges[i]!, r.from[i]!));
    return out;
  }

  /** Type name of edge `e`. */
  edgeTypeName(e: number): string {
    return this.meta.edgeTypes[this.raw.edgeType[e]!]!;
  }

  /** Name of edge `e`: a string for properties and variables, a number for elements. */
  edgeName(e: number): string | number {
    const t = this.raw.edgeType[e];
    const v = this.raw.edgeNameOrIndex[e]!;
    return t === this.elementType || t === this.hiddenEdgeType ? v : this.raw.strings[v]!;
  }

  private edge(e: number, from: number): HeapEdge {
    return { type: this.edgeTypeName(e), name: this.edgeName(e), from, to: this.raw.edgeTo[e]! };
  }

  // ---- dominators ----

  /** Memory freed if this node were released: its self size plus everything only it keeps alive. */
  retainedSize(ref: NodeRef): number {
    return this.dominatorResult().retainedSize[this.ordinalOf(ref)]!;
  }

  /** The immediate dominator: the closest node every retaining path from the root goes through (undefined for the root). */
  dominatorOf(ref: NodeRef): HeapNode | undefined {
    const n = this.ordinalOf(ref);
    if (n === this.root) return undefined;
    return this.node(this.dominatorResult().dominator[n]!);
  }

  /** Compute dominators and retained sizes now (otherwise done on first use). */
  computeDominators(): DominatorResult {
    return this.dominatorResult();
  }

  private dominatorResult(): DominatorResult {
    if (!this.dominators) {
      this.dominators = computeDominators({ ...this.graph(), nodeSelfSize: this.raw.nodeSelfSize });
    }
    return this.dominators;
  }

  // ---- retainer paths ----

  /**
   * Shortest path from the root to the node over retaining edges (weak edges skipped), root excluded,
   * the node last; `null` when the node is only weakly reachable.
   */
  retainerPath(ref: NodeRef): RetainerStep[] | null {
    const n = this.ordinalOf(ref);
    const tree = this.retainerTree();
    if (n !== this.root && tree.parentEdge[n] === NO_EDGE) return null;
    const steps: RetainerStep[] = [];
    let v = n;
    while (v !== this.root) {
      const e = tree.parentEdge[v]!;
      steps.push({ node: this.node(v), edge: { type: this.edgeTypeName(e), name: this.edgeName(e) } });
      v = tree.parentNode[v]!;
    }
    steps.reverse();
    if (steps.length > 0) steps[0]!.edge = null;
    return steps;
  }

  /** The breadth-first retainer tree behind `retainerPath` (computed on first use). */
  retainerTree(): RetainerTree {
    if (!this.retainerTreeCache) {
      this.retainerTreeCache = computeRetainerTree(this.graph());
    }
    return this.retainerTreeCache;
  }

  private graph(): PathGraph {
    const { firstEdge, edgeTo, edgeType } = this.raw;
    return {
      nodeCount: this.nodeCount,
      firstEdge,
      edgeTo,
      edgeType,
      weakType: this.weakType,
      shortcutType: this.shortcutType,
      root: this.root,
    };
  }

  // ---- Summary view ----

  /**
   * Objects grouped by class, like the DevTools Summary view: count, total self size and retained size
   * (an instance dominated by another instance of the same class is not counted twice). Sorted by retained size.
   */
  summary(): ClassSummary[] {
    const { classOf, names } = this.classTable();
    const n = this.nodeCount;
    if (n === 0) return [];
    const k = names.length;
    const count = new Float64Array(k);
    const self = new Float64Array(k);
    const selfSize = this.raw.nodeSelfSize;
    for (let v = 0; v < n; v++) {
      const c = classOf[v]!;
      count[c]!++;
      self[c]! += selfSize[v]!;
    }
    const retained = this.retainedSizeByClass();
    const rows: ClassSummary[] = [];
    for (let c = 0; c < k; c++) {
      if (count[c]! > 0)
        rows.push({ className: names[c]!, count: count[c]!, selfSize: self[c]!, retainedSize: retained[c]! });
    }
    rows.sort((a, b) => b.retainedSize - a.retainedSize || b.selfSize - a.selfSize);
    return rows;
  }

  /**
   * Per class (index into `classTable().names`): the retained size of its instances, counting an
   * instance only when no dominator of it is a counted instance of the same class, so nested instances
   * (a linked list, a tree) are not counted twice. `include(ordinal)` limits the instances counted
   * (the new objects of a diff, say); by default all are.
   */
  retainedSizeByClass(include?: (ordinal: number) => boolean): Float64Array {
    const { classOf, names } = this.classTable();
    const { dominator, retainedSize } = this.dominatorResult();
    const n = this.nodeCount;
    const retained = new Float64Array(names.length);
    if (n === 0) return retained;
    // Walk the dominator tree depth first; active[c] counts the counted instances of class c on the path.
    const firstChild = new Uint32Array(n + 1);
    for (let v = 0; v < n; v++) if (v !== this.root) firstChild[dominator[v]! + 1]!++;
    for (let v = 0; v < n; v++) firstChild[v + 1]! += firstChild[v]!;
    const children = new Uint32Array(n);
    const fill = firstChild.slice(0, n);
    for (let v = 0; v < n; v++) if (v !== this.root) children[fill[dominator[v]!]!++] = v;
    const active = new Uint32Array(names.length);
    const counted = new Uint8Array(n);
    const stack = new Uint32Array(n);
    const cursor = new Uint32Array(n);
    const enter = (v: number): void => {
      if (include && !include(v)) return;
      const c = classOf[v]!;
      if (active[c] === 0) retained[c]! += retainedSize[v]!;
      active[c]!++;
      counted[v] = 1;
    };
    let sp = 0;
    stack[0] = this.root;
    cursor[0] = firstChild[this.root]!;
    enter(this.root);
    while (sp >= 0) {
      const v = stack[sp]!;
      if (cursor[sp]! < firstChild[v + 1]!) {
        const child = children[cursor[sp]!++]!;
        enter(child);
        sp++;
        stack[sp] = child;
        cursor[sp] = firstChild[child]!;
      } else {
        if (counted[v]) active[classOf[v]!]!--;
        sp--;
      }
    }
    return retained;
  }

  // ---- shared indexes (used by diff and leak finding) ----

  /** Dense class id per node and the class names, computed once. */
  classTable(): { classOf: Uint32Array; names: string[] } {
    if (!this.classes) {
      const raw = this.raw;
      const types = this.meta.nodeTypes;
      const stringCount = raw.strings.length;
      const keyToClass = new Int32Array(stringCount + types.length).fill(-1);
      const names: string[] = [];
      const classOf = new Uint32Array(this.nodeCount);
      const byName = new Map<string, number>();
      const objectType = types.indexOf('object');
      const nativeType = types.indexOf('native');
      for (let v = 0; v < this.nodeCount; v++) {
        const t = raw.nodeType[v]!;
        const key = t === objectType || t === nativeType ? raw.nodeName[v]! : stringCount + t;
        let c = keyToClass[key]!;
        if (c < 0) {
          const name = key < stringCount ? raw.strings[key]! : typeClassName(types[t]!);
          // A constructor called e.g. "(string)" would otherwise make two rows with one name.
          c = byName.get(name) ?? names.length;
          if (c === names.length) {
            names.push(name);
            byName.set(name, c);
          }
          keyToClass[key] = c;
        }
        classOf[v] = c;
      }
      this.classes = { classOf, names };
    }
    return this.classes;
  }

  /** Node id -> ordinal index, computed once. */
  idIndex(): NodeIdIndex {
    if (!this.idIndexCache) this.idIndexCache = new NodeIdIndex(this.raw.nodeId);
    return this.idIndexCache;
  }

  private reverseIndex(): { first: Uint32Array; edges: Uint32Array; from: Uint32Array } {
    if (!this.reverse) {
      const { firstEdge, edgeTo } = this.raw;
      const n = this.nodeCount;
      const first = new Uint32Array(n + 1);
      for (let e = 0; e < this.edgeCount; e++) first[edgeTo[e]! + 1]!++;
      for (let v = 0; v < n; v++) first[v + 1]! += first[v]!;
      const fill = first.slice(0, n);
      const edges = new Uint32Array(this.edgeCount);
      const from = new Uint32Array(this.edgeCount);
      for (let v = 0; v < n; v++) {
        for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) {
          const slot = fill[edgeTo[e]!]!++;
          edges[slot] = e;
          from[slot] = v;
        }
      }
      this.reverse = { first, edges, from };
    }
    return this.reverse;
  }

  private ordinalOf(ref: NodeRef): number {
    const n = typeof ref === 'number' ? ref : ref !== null && typeof ref === 'object' ? ref.ordinal : NaN;
    if (!Number.isInteger(n) || n < 0 || n >= this.nodeCount) {
      throw new InvalidOptionError('node', `a node ordinal in [0, ${this.nodeCount}) or a HeapNode`, ref);
    }
    return n;
  }
}

/** Class name of a non-object node, as DevTools names it. */
function typeClassName(type: string): string {
  switch (type) {
    case 'hidden':
      return '(system)';
    case 'code':
      return '(compiled code)';
    default:
      return `(${type})`;
  }
}
