/**
 * The `snapshot` header of a V8 `.heapsnapshot` (the one part small enough for `JSON.parse`): the
 * field layout of nodes, edges and locations, the declared counts, and what each column holds.
 */
import { NotAHeapSnapshotError, SnapshotCorruptError } from './errors.js';
import type { SnapshotMeta } from './raw-heap-snapshot.js';

export const MAX_U32 = 0xffffffff;

// What a column of "nodes" or "edges" holds.
export const K_SKIP = 0;
export const K_TYPE = 1;
export const K_NAME = 2;
export const K_ID = 3;
export const K_SELF_SIZE = 4;
export const K_EDGE_COUNT = 5;
export const K_DETACHEDNESS = 6;
export const K_TO_NODE = 7;

export interface SnapshotHeader {
  meta: SnapshotMeta;
  /** `snapshot.node_count`, or -1 when the header does not declare it. */
  declaredNodeCount: number;
  /** `snapshot.edge_count`, or -1 when the header does not declare it. */
  declaredEdgeCount: number;
}

/** Read and check the header's JSON text; `offset` is where it starts in the input (for errors). */
export function readSnapshotHeader(text: string, source: string, offset: number): SnapshotHeader {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new SnapshotCorruptError(source, offset, `"snapshot" header is not valid JSON (${(error as Error).message})`);
  }
  const h = header as { meta?: Record<string, unknown>; node_count?: unknown; edge_count?: unknown };
  const m = h.meta;
  const bad = (what: string): never => {
    throw new NotAHeapSnapshotError(source, offset, `snapshot.meta ${what}; not a V8 heap snapshot`);
  };
  if (!m || typeof m !== 'object')
    throw new NotAHeapSnapshotError(source, offset, 'snapshot.meta is missing; not a V8 heap snapshot');
  const strings = (v: unknown, name: string): string[] =>
    Array.isArray(v) && v.every((s) => typeof s === 'string')
      ? (v as string[])
      : bad(`.${name} is not a list of names`);
  const nodeFields = strings(m.node_fields, 'node_fields');
  const edgeFields = strings(m.edge_fields, 'edge_fields');
  const nodeTypes = strings(
    Array.isArray(m.node_types) ? m.node_types[nodeFields.indexOf('type')] : undefined,
    'node_types[type]',
  );
  const edgeTypes = strings(
    Array.isArray(m.edge_types) ? m.edge_types[edgeFields.indexOf('type')] : undefined,
    'edge_types[type]',
  );
  const locationFields = m.location_fields === undefined ? [] : strings(m.location_fields, 'location_fields');
  for (const f of ['type', 'name', 'id', 'self_size', 'edge_count'])
    if (!nodeFields.includes(f)) bad(`.node_fields lacks "${f}"`);
  for (const f of ['type', 'name_or_index', 'to_node']) if (!edgeFields.includes(f)) bad(`.edge_fields lacks "${f}"`);
  if (nodeTypes.length > 255 || edgeTypes.length > 255) bad('declares more than 255 types');
  const count = (v: unknown, name: string): number => {
    if (v === undefined) return -1;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_U32) {
      throw new SnapshotCorruptError(source, offset, `snapshot.${name} is not a valid count`);
    }
    return v;
  };
  return {
    meta: { nodeFields, nodeTypes, edgeFields, edgeTypes, locationFields },
    declaredNodeCount: count(h.node_count, 'node_count'),
    declaredEdgeCount: count(h.edge_count, 'edge_count'),
  };
}

/** What each column of "nodes" holds (K_*), in field order. */
export function nodeColumnKinds(meta: SnapshotMeta): Uint8Array {
  return Uint8Array.from(meta.nodeFields, (f) =>
    f === 'type'
      ? K_TYPE
      : f === 'name'
        ? K_NAME
        : f === 'id'
          ? K_ID
          : f === 'self_size'
            ? K_SELF_SIZE
            : f === 'edge_count'
              ? K_EDGE_COUNT
              : f === 'detachedness'
                ? K_DETACHEDNESS
                : K_SKIP,
  );
}

/** What each column of "edges" holds (K_*), in field order. */
export function edgeColumnKinds(meta: SnapshotMeta): Uint8Array {
  return Uint8Array.from(meta.edgeFields, (f) =>
    f === 'type' ? K_TYPE : f === 'name_or_index' ? K_NAME : f === 'to_node' ? K_TO_NODE : K_SKIP,
  );
}

/**
 * How many rows of `fieldCount` values an input of `totalBytes` can hold at most: every value takes
 * at least two bytes ("0,"), so a parser never allocates for more than the file can hold.
 */
export function rowsThatFit(totalBytes: number | undefined, fieldCount: number): number {
  return totalBytes === undefined ? Infinity : Math.floor((totalBytes + 2) / (fieldCount * 2));
}
