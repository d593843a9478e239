/**
 * `diffHeapSnapshots(before, after)`: the DevTools Comparison view. Objects are matched by V8 node id
 * (stable within one process): an id only in `after` is new, an id only in `before` was deleted.
 * Results are per class (constructor name, or `(closure)`, `(string)`, … for non-objects).
 */
import { InvalidOptionError } from '../errors.js';
import { HeapSnapshot } from './heap-snapshot.js';

export interface ClassDiff {
  className: string;
  /** Objects in `after` whose id is not in `before`. */
  newCount: number;
  /** Objects in `before` whose id is not in `after`. */
  deletedCount: number;
  /** `newCount - deletedCount`. */
  countDelta: number;
  /** Self size of the new objects. */
  allocatedSize: number;
  /** Self size of the deleted objects. */
  freedSize: number;
  /** `allocatedSize - freedSize`. */
  sizeDelta: number;
  /**
   * With `{ retainedSizes: true }`: memory the new objects keep alive in `after` (their retained size,
   * a new object dominated by another new object of the class counted once). This is what names a leak:
   * a leaking record class has a small self size but retains the payloads it holds.
   */
  newRetainedSize?: number;
}

export interface HeapDiffOptions {
  /** Also compute `newRetainedSize` per class (needs the dominator tree of `after`: seconds on a large snapshot). Default false. */
  retainedSizes?: boolean;
}

export interface HeapDiff {
  /** Classes with at least one new or deleted object, largest size growth first. */
  classes: ClassDiff[];
  totals: { newCount: number; deletedCount: number; allocatedSize: number; freedSize: number; sizeDelta: number };
  /** Objects present in both (by id). A value near 0 means the snapshots are from different processes. */
  commonCount: number;
}

export function diffHeapSnapshots(before: HeapSnapshot, after: HeapSnapshot, options: HeapDiffOptions = {}): HeapDiff {
  if (!(before instanceof HeapSnapshot)) throw new InvalidOptionError('before', 'a HeapSnapshot', before);
  if (!(after instanceof HeapSnapshot)) throw new InvalidOptionError('after', 'a HeapSnapshot', after);
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  if (options.retainedSizes !== undefined && typeof options.retainedSizes !== 'boolean') {
    throw new InvalidOptionError('retainedSizes', 'a boolean', options.retainedSizes);
  }
  const rows = new Map<string, ClassDiff>();
  const row = (className: string): ClassDiff => {
    let r = rows.get(className);
    if (!r) {
      r = { className, newCount: 0, deletedCount: 0, countDelta: 0, allocatedSize: 0, freedSize: 0, sizeDelta: 0 };
      rows.set(className, r);
    }
    return r;
  };
  const added = onlyIn(after, before);
  const deleted = onlyIn(before, after);
  for (let c = 0; c < added.names.length; c++) {
    if (added.count[c]! === 0) continue;
    const r = row(added.names[c]!);
    r.newCount += added.count[c]!;
    r.allocatedSize += added.size[c]!;
  }
  for (let c = 0; c < deleted.names.length; c++) {
    if (deleted.count[c]! === 0) continue;
    const r = row(deleted.names[c]!);
    r.deletedCount += deleted.count[c]!;
    r.freedSize += deleted.size[c]!;
  }
  const totals = { newCount: 0, deletedCount: 0, allocatedSize: 0, freedSize: 0, sizeDelta: 0 };
  for (const r of rows.values()) {
    r.countDelta = r.newCount - r.deletedCount;
    r.sizeDelta = r.allocatedSize - r.freedSize;
    totals.newCount += r.newCount;
    totals.deletedCount += r.deletedCount;
    totals.allocatedSize += r.allocatedSize;
    totals.freedSize += r.freedSize;
  }
  totals.sizeDelta = totals.allocatedSize - totals.freedSize;
  if (options.retainedSizes) {
    const existed = presentIn(after, before);
    const retained = after.retainedSizeByClass((v) => !existed(v));
    const { names } = after.classTable();
    for (let c = 0; c < names.length; c++) {
      const r = rows.get(names[c]!);
      if (r) r.newRetainedSize = retained[c]!;
    }
  }
  const classes = [...rows.values()].sort(
    (a, b) => b.sizeDelta - a.sizeDelta || b.countDelta - a.countDelta || (a.className < b.className ? -1 : 1),
  );
  return { classes, totals, commonCount: after.nodeCount - totals.newCount };
}

/**
 * For each node of `a`: is the same object in `b`? Node ids are stable within a process, but V8
 * keys them by address between snapshots: a new object allocated where a dead one was can inherit
 * its id. An id found in `b` on a node of another class is therefore a different object (Chrome
 * DevTools' comparison view also matches ids per class).
 */
function presentIn(a: HeapSnapshot, b: HeapSnapshot): (v: number) => boolean {
  const { classOf, names } = a.classTable();
  const other = b.classTable();
  const otherClass = new Map(other.names.map((name, c) => [name, c]));
  const sameClass = Int32Array.from(names, (name) => otherClass.get(name) ?? -1);
  const index = b.idIndex();
  const ids = a.raw.nodeId;
  return (v) => {
    const o = index.get(ids[v]!);
    return o >= 0 && other.classOf[o] === sameClass[classOf[v]!];
  };
}

/** Per class of `a`: count and self size of the nodes of `a` that are not in `b`. */
function onlyIn(a: HeapSnapshot, b: HeapSnapshot): { names: string[]; count: Float64Array; size: Float64Array } {
  const { classOf, names } = a.classTable();
  const present = presentIn(a, b);
  const self = a.raw.nodeSelfSize;
  const count = new Float64Array(names.length);
  const size = new Float64Array(names.length);
  for (let v = 0; v < a.nodeCount; v++) {
    if (present(v)) continue;
    const c = classOf[v]!;
    count[c]!++;
    size[c]! += self[v]!;
  }
  return { names, count, size };
}
