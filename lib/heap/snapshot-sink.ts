/**
 * Where the snapshot scanner (snapshot-scanner.ts) puts what it reads: the header, then each value of
 * the number arrays and each string, in input order. Offsets are byte offsets in the input, for the
 * errors a sink throws. The nodes go to a `SnapshotNodeSink`; the rest of the graph to a
 * `SnapshotGraphSink` when there is one, else the scanner skips "edges", "locations" and "strings"
 * unread (an ids-only parse). Two sinks rather than one that extends the other: each call site of
 * the scanner then always sees one class, which keeps it as fast as a parser in one class.
 */
import type { SnapshotHeader } from './snapshot-header.js';

export interface SnapshotNodeSink {
  header(header: SnapshotHeader): void;
  /** The next value of "nodes" (its column is the count of values so far modulo the node field count). */
  nodeValue(value: number, offset: number): void;
  /** The "]" of "nodes" is at `offset`. */
  nodesEnd(offset: number): void;
}

export interface SnapshotGraphSink {
  header(header: SnapshotHeader): void;
  /** The "[" of "edges" was read. */
  edgesStart(): void;
  edgeValue(value: number, offset: number): void;
  edgesEnd(offset: number): void;
  locationValue(value: number): void;
  /** The "[" of "strings" is at `offset`. */
  stringsStart(offset: number): void;
  string(value: string): void;
}
