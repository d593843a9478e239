/**
 * The node columns of a heap snapshot (type, name, id, self size, first edge, detachedness), written
 * value by value from the scanner. Without a graph sink next to it, it is all an ids-only parse
 * (`loadHeapSnapshotIds`) keeps: edges, locations and strings are then skipped unread.
 */
import { SnapshotCorruptError } from './errors.js';
import type { RawHeapSnapshot, SnapshotMeta } from './raw-heap-snapshot.js';
import {
  K_DETACHEDNESS,
  K_EDGE_COUNT,
  K_ID,
  K_NAME,
  K_SELF_SIZE,
  K_TYPE,
  MAX_U32,
  nodeColumnKinds,
  rowsThatFit,
  type SnapshotHeader,
} from './snapshot-header.js';
import type { SnapshotNodeSink } from './snapshot-sink.js';

export class SnapshotNodeColumns implements SnapshotNodeSink {
  private readonly source: string;
  private readonly totalBytes: number | undefined;
  private meta: SnapshotMeta | null = null;
  private declaredNodeCount = -1;
  private nodeFieldCount = 0;
  private nodeKinds: Uint8Array = new Uint8Array(0);
  private nodeColumn = 0;
  private nodeCapacity = 0;
  /** Complete nodes written. */
  private nodes = 0;
  private nodeType = new Uint8Array(0);
  private nodeName = new Uint32Array(0);
  private nodeId = new Uint32Array(0);
  private nodeSelfSize = new Float64Array(0);
  private nodeDetachedness: Uint8Array | null = null;
  private firstEdge = new Uint32Array(1);
  private nodesDone = false;
  private nodesEndOffset = 0;

  /**
   * @param source name used in error messages (the file path).
   * @param totalBytes size of the whole input when known; used to reject absurd header counts early.
   */
  constructor(source: string, totalBytes: number | undefined) {
    this.source = source;
    this.totalBytes = totalBytes;
  }

  /** Values per node (the length of meta.nodeFields). */
  get fieldCount(): number {
    return this.nodeFieldCount;
  }

  /** Complete nodes written so far. */
  get count(): number {
    return this.nodes;
  }

  /** "nodes" has ended: `count` is final. */
  get done(): boolean {
    return this.nodesDone;
  }

  header({ meta, declaredNodeCount }: SnapshotHeader): void {
    this.meta = meta;
    this.declaredNodeCount = declaredNodeCount;
    this.nodeFieldCount = meta.nodeFields.length;
    this.nodeKinds = nodeColumnKinds(meta);
    // A count the file cannot hold is not judged here: a file cut short ends before its arrays do
    // (SnapshotTruncatedError where it ends), a whole file with a wrong count fails the count check.
    this.growNodes(
      declaredNodeCount >= 0 ? Math.min(declaredNodeCount, rowsThatFit(this.totalBytes, this.nodeFieldCount)) : 1 << 16,
    );
    if (meta.nodeFields.includes('detachedness')) this.nodeDetachedness = new Uint8Array(this.nodeCapacity);
  }

  nodeValue(v: number, offset: number): void {
    const col = this.nodeColumn;
    const n = this.nodes;
    if (col === 0 && n === this.nodeCapacity) {
      if (this.declaredNodeCount >= 0)
        throw new SnapshotCorruptError(
          this.source,
          offset,
          `more nodes than snapshot.node_count (${this.declaredNodeCount})`,
        );
      this.growNodes(this.nodeCapacity * 2);
    }
    switch (this.nodeKinds[col]) {
      case K_TYPE:
        if (v >= this.meta!.nodeTypes.length)
          throw new SnapshotCorruptError(this.source, offset, `node ${n} has unknown type ${v}`);
        this.nodeType[n] = v;
        break;
      case K_NAME:
        if (v > MAX_U32) throw new SnapshotCorruptError(this.source, offset, `node ${n} name index out of range`);
        this.nodeName[n] = v;
        break;
      case K_ID:
        if (v > MAX_U32) throw new SnapshotCorruptError(this.source, offset, `node ${n} id out of range`);
        this.nodeId[n] = v;
        break;
      case K_SELF_SIZE:
        this.nodeSelfSize[n] = v;
        break;
      case K_EDGE_COUNT: {
        const total = this.firstEdge[n]! + v;
        if (total > MAX_U32) throw new SnapshotCorruptError(this.source, offset, 'more than 2^32 edges');
        this.firstEdge[n + 1] = total;
        break;
      }
      case K_DETACHEDNESS:
        this.nodeDetachedness![n] = Math.min(v, 255);
        break;
      default:
        break;
    }
    if (++this.nodeColumn === this.nodeFieldCount) {
      this.nodeColumn = 0;
      this.nodes = n + 1;
    }
  }

  nodesEnd(offset: number): void {
    if (this.nodeColumn !== 0)
      throw new SnapshotCorruptError(
        this.source,
        offset,
        `"nodes" ends inside a node (length is not a multiple of ${this.nodeFieldCount})`,
      );
    this.nodesDone = true;
    this.nodesEndOffset = offset;
  }

  /** The node ids, in node order, once the input is complete (see HeapSnapshotScanner.finish). */
  ids(): Uint32Array {
    this.checkNodeCount();
    return this.nodeId.subarray(0, this.nodes);
  }

  /** The columns, cut to the nodes written, once the input is complete (see HeapSnapshotScanner.finish). */
  columns(): Pick<
    RawHeapSnapshot,
    'nodeCount' | 'nodeType' | 'nodeName' | 'nodeId' | 'nodeSelfSize' | 'nodeDetachedness' | 'firstEdge'
  > {
    this.checkNodeCount();
    const nodeCount = this.nodes;
    return {
      nodeCount,
      nodeType: this.nodeType.subarray(0, nodeCount),
      nodeName: this.nodeName.subarray(0, nodeCount),
      nodeId: this.nodeId.subarray(0, nodeCount),
      nodeSelfSize: this.nodeSelfSize.subarray(0, nodeCount),
      nodeDetachedness: this.nodeDetachedness ? this.nodeDetachedness.subarray(0, nodeCount) : null,
      firstEdge: this.firstEdge.subarray(0, nodeCount + 1),
    };
  }

  private checkNodeCount(): void {
    if (this.declaredNodeCount >= 0 && this.declaredNodeCount !== this.nodes) {
      throw new SnapshotCorruptError(
        this.source,
        this.nodesEndOffset,
        `snapshot.node_count is ${this.declaredNodeCount} but "nodes" holds ${this.nodes}`,
      );
    }
  }

  private growNodes(capacity: number): void {
    const cap = Math.max(capacity, 1);
    const copy = <T extends Uint8Array | Uint32Array | Float64Array>(
      old: T,
      make: (n: number) => T,
      len: number,
    ): T => {
      const next = make(len);
      next.set(old.subarray(0, Math.min(old.length, len)) as never);
      return next;
    };
    this.nodeType = copy(this.nodeType, (n) => new Uint8Array(n), cap);
    this.nodeName = copy(this.nodeName, (n) => new Uint32Array(n), cap);
    this.nodeId = copy(this.nodeId, (n) => new Uint32Array(n), cap);
    this.nodeSelfSize = copy(this.nodeSelfSize, (n) => new Float64Array(n), cap);
    this.firstEdge = copy(this.firstEdge, (n) => new Uint32Array(n), cap + 1);
    if (this.nodeDetachedness) this.nodeDetachedness = copy(this.nodeDetachedness, (n) => new Uint8Array(n), cap);
    this.nodeCapacity = cap;
  }
}
