/** The result of parsing a V8 `.heapsnapshot`: its field layout and its graph in columns. */

/** Field layout of a snapshot, as declared by its `snapshot.meta`. */
export interface SnapshotMeta {
  nodeFields: string[];
  /** Names of node types, indexed by the numeric `type` field. */
  nodeTypes: string[];
  edgeFields: string[];
  /** Names of edge types, indexed by the numeric `type` field. */
  edgeTypes: string[];
  locationFields: string[];
}

/** The graph of a snapshot in columns (structure of arrays); node and edge references are ordinals. */
export interface RawHeapSnapshot {
  meta: SnapshotMeta;
  nodeCount: number;
  edgeCount: number;
  nodeType: Uint8Array;
  /** Index into `strings`. */
  nodeName: Uint32Array;
  nodeId: Uint32Array;
  nodeSelfSize: Float64Array;
  /** V8's detachedness field (0 unknown, 1 attached, 2 detached) when the snapshot has it. */
  nodeDetachedness: Uint8Array | null;
  /** Edges of node `n` are `firstEdge[n] .. firstEdge[n + 1] - 1`; length `nodeCount + 1`. */
  firstEdge: Uint32Array;
  edgeType: Uint8Array;
  /** Index into `strings` for named edges; the element index for `element` and `hidden` edges. */
  edgeNameOrIndex: Uint32Array;
  /** Ordinal of the node the edge points to. */
  edgeTo: Uint32Array;
  strings: string[];
  /** Flat `locations` array (`object_index, script_id, line, column` by default), `object_index` converted to a node ordinal. */
  locations: Uint32Array;
  /** Byte length of the input. */
  byteLength: number;
}
