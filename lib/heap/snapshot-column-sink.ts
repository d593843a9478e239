/**
 * The rest of the graph of a heap snapshot next to its node columns (snapshot-node-columns.ts): the edge
 * columns, the locations and the strings table, written value by value from the scanner; `end()`
 * checks that they agree with the nodes and with each other and returns it all as a `RawHeapSnapshot`.
 */
import { SnapshotCorruptError } from './errors.js';
import type { RawHeapSnapshot, SnapshotMeta } from './raw-heap-snapshot.js';
import {
  edgeColumnKinds,
  K_NAME,
  K_TO_NODE,
  K_TYPE,
  MAX_U32,
  rowsThatFit,
  type SnapshotHeader,
} from './snapshot-header.js';
import type { SnapshotNodeColumns } from './snapshot-node-columns.js';
import type { SnapshotGraphSink } from './snapshot-sink.js';

export class SnapshotColumnSink implements SnapshotGraphSink {
  private readonly source: string;
  private readonly totalBytes: number | undefined;
  private readonly nodes: SnapshotNodeColumns;
  private meta: SnapshotMeta | null = null;
  private declaredEdgeCount = -1;
  private edgeFieldCount = 0;
  private edgeKinds: Uint8Array = new Uint8Array(0);
  private edgeColumn = 0;
  private edgeCapacity = 0;
  /** Complete edges written. */
  private edges = 0;
  private edgeType = new Uint8Array(0);
  private edgeNameOrIndex = new Uint32Array(0);
  private edgeTo = new Uint32Array(0);
  private edgesEndOffset = 0;
  /** Values per node, and the node count when "nodes" came before "edges" (else Infinity): what to_node is checked against. */
  private nodeFieldCount = 0;
  private nodeLimit = Infinity;
  private locationFieldCount = 0;
  private locationObjectColumn = -1;
  private locationCapacity = 0;
  private locationValues = 0;
  private locations = new Uint32Array(0);
  private readonly strings: string[] = [];
  private stringsStartOffset = 0;

  /**
   * @param nodes the node columns the scanner writes next to this sink (read for the edges' checks).
   * @param source name used in error messages (the file path).
   * @param totalBytes size of the whole input when known; used to reject absurd header counts early.
   */
  constructor(nodes: SnapshotNodeColumns, source: string, totalBytes: number | undefined) {
    this.nodes = nodes;
    this.source = source;
    this.totalBytes = totalBytes;
  }

  header({ meta, declaredEdgeCount }: SnapshotHeader): void {
    this.meta = meta;
    this.declaredEdgeCount = declaredEdgeCount;
    this.edgeFieldCount = meta.edgeFields.length;
    this.edgeKinds = edgeColumnKinds(meta);
    this.locationFieldCount = meta.locationFields.length;
    this.locationObjectColumn = meta.locationFields.indexOf('object_index');
    this.growEdges(
      declaredEdgeCount >= 0 ? Math.min(declaredEdgeCount, rowsThatFit(this.totalBytes, this.edgeFieldCount)) : 1 << 18,
    );
  }

  edgesStart(): void {
    this.nodeFieldCount = this.nodes.fieldCount;
    this.nodeLimit = this.nodes.done ? this.nodes.count : Infinity;
  }

  edgeValue(v: number, offset: number): void {
    const col = this.edgeColumn;
    const e = this.edges;
    if (col === 0 && e === this.edgeCapacity) {
      if (this.declaredEdgeCount >= 0)
        throw new SnapshotCorruptError(
          this.source,
          offset,
          `more edges than snapshot.edge_count (${this.declaredEdgeCount})`,
        );
      this.growEdges(this.edgeCapacity * 2);
    }
    switch (this.edgeKinds[col]) {
      case K_TYPE:
        if (v >= this.meta!.edgeTypes.length)
          throw new SnapshotCorruptError(this.source, offset, `edge ${e} has unknown type ${v}`);
        this.edgeType[e] = v;
        break;
      case K_NAME:
        if (v > MAX_U32) throw new SnapshotCorruptError(this.source, offset, `edge ${e} name out of range`);
        this.edgeNameOrIndex[e] = v;
        break;
      case K_TO_NODE: {
        const ordinal = v / this.nodeFieldCount;
        if (ordinal !== Math.floor(ordinal) || ordinal >= this.nodeLimit) {
          throw new SnapshotCorruptError(
            this.source,
            offset,
            `edge ${e} points to ${v}, which is not the start of a node`,
          );
        }
        this.edgeTo[e] = ordinal;
        break;
      }
      default:
        break;
    }
    if (++this.edgeColumn === this.edgeFieldCount) {
      this.edgeColumn = 0;
      this.edges = e + 1;
    }
  }

  edgesEnd(offset: number): void {
    if (this.edgeColumn !== 0)
      throw new SnapshotCorruptError(
        this.source,
        offset,
        `"edges" ends inside an edge (length is not a multiple of ${this.edgeFieldCount})`,
      );
    this.edgesEndOffset = offset;
  }

  locationValue(v: number): void {
    if (this.locationValues === this.locationCapacity) this.growLocations();
    let value = v;
    if (this.locationFieldCount > 0 && this.locationValues % this.locationFieldCount === this.locationObjectColumn)
      value = v / this.nodes.fieldCount;
    this.locations[this.locationValues++] = Math.min(value, MAX_U32);
  }

  stringsStart(offset: number): void {
    this.stringsStartOffset = offset;
  }

  string(value: string): void {
    this.strings.push(value);
  }

  /** Check the columns against each other (the input is complete: see HeapSnapshotScanner.finish) and return them. */
  end(meta: SnapshotMeta, byteLength: number): RawHeapSnapshot {
    const nodes = this.nodes.columns();
    const { nodeCount, firstEdge, nodeName } = nodes;
    const edgeCount = this.edges;
    if (firstEdge[nodeCount] !== edgeCount) {
      throw new SnapshotCorruptError(
        this.source,
        this.edgesEndOffset,
        `nodes declare ${firstEdge[nodeCount]} edges but "edges" holds ${edgeCount}`,
      );
    }
    const edgeTo = this.edgeTo;
    if (!this.nodes.done) {
      for (let e = 0; e < edgeCount; e++) {
        if (edgeTo[e]! >= nodeCount)
          throw new SnapshotCorruptError(this.source, this.edgesEndOffset, `edge ${e} points past the last node`);
      }
    }
    const stringCount = this.strings.length;
    for (let n = 0; n < nodeCount; n++) {
      if (nodeName[n]! >= stringCount) {
        throw new SnapshotCorruptError(
          this.source,
          this.stringsStartOffset,
          `node ${n} names string ${nodeName[n]} but there are ${stringCount} strings`,
        );
      }
    }
    const elementType = meta.edgeTypes.indexOf('element');
    const hiddenType = meta.edgeTypes.indexOf('hidden');
    const edgeType = this.edgeType;
    const edgeName = this.edgeNameOrIndex;
    for (let e = 0; e < edgeCount; e++) {
      const t = edgeType[e];
      if (t !== elementType && t !== hiddenType && edgeName[e]! >= stringCount) {
        throw new SnapshotCorruptError(
          this.source,
          this.stringsStartOffset,
          `edge ${e} names string ${edgeName[e]} but there are ${stringCount} strings`,
        );
      }
    }
    if (this.locationFieldCount > 0 && this.locationValues % this.locationFieldCount !== 0) {
      throw new SnapshotCorruptError(
        this.source,
        byteLength,
        '"locations" length is not a multiple of location_fields',
      );
    }
    return {
      meta,
      nodeCount,
      edgeCount,
      nodeType: nodes.nodeType,
      nodeName,
      nodeId: nodes.nodeId,
      nodeSelfSize: nodes.nodeSelfSize,
      nodeDetachedness: nodes.nodeDetachedness,
      firstEdge,
      edgeType: edgeType.subarray(0, edgeCount),
      edgeNameOrIndex: edgeName.subarray(0, edgeCount),
      edgeTo: edgeTo.subarray(0, edgeCount),
      strings: this.strings,
      locations: this.locations.subarray(0, this.locationValues),
      byteLength,
    };
  }

  private growEdges(capacity: number): void {
    const cap = Math.max(capacity, 1);
    const t = new Uint8Array(cap);
    t.set(this.edgeType.subarray(0, this.edges));
    const nm = new Uint32Array(cap);
    nm.set(this.edgeNameOrIndex.subarray(0, this.edges));
    const to = new Uint32Array(cap);
    to.set(this.edgeTo.subarray(0, this.edges));
    this.edgeType = t;
    this.edgeNameOrIndex = nm;
    this.edgeTo = to;
    this.edgeCapacity = cap;
  }

  private growLocations(): void {
    const next = new Uint32Array(Math.max(1024, this.locationCapacity * 2));
    next.set(this.locations);
    this.locations = next;
    this.locationCapacity = next.length;
  }
}
