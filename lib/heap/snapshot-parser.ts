/**
 * Streaming parser of the V8 `.heapsnapshot` format: the scanner (snapshot-scanner.ts) reads the
 * JSON bytes and hands every value to the sinks — the node columns (snapshot-node-columns.ts) and,
 * unless only the node ids are wanted, the rest of the graph (snapshot-column-sink.ts).
 *
 * Feed it chunks with `write(chunk)` (any split, including inside a number, a string or an escape) and
 * call `end()` (or `endIds()` after an `idsOnly` parse); every problem throws a
 * `HeapSnapshotFormatError` naming the byte offset.
 */
import { SnapshotCorruptError } from './errors.js';
import type { RawHeapSnapshot } from './raw-heap-snapshot.js';
import { SnapshotColumnSink } from './snapshot-column-sink.js';
import { SnapshotNodeColumns } from './snapshot-node-columns.js';
import { HeapSnapshotScanner } from './snapshot-scanner.js';

export type { RawHeapSnapshot, SnapshotMeta } from './raw-heap-snapshot.js';

export class HeapSnapshotParser {
  private readonly source: string;
  private readonly scanner: HeapSnapshotScanner;
  private readonly nodes: SnapshotNodeColumns;
  /** Edges, locations and strings; null for an `idsOnly` parse. */
  private readonly columns: SnapshotColumnSink | null;

  /**
   * @param source name used in error messages (the file path).
   * @param totalBytes size of the whole input when known; used to reject absurd header counts early.
   * @param options.idsOnly parse only what `endIds()` needs: node columns; edges, strings and locations are skipped unread.
   */
  constructor(source = '<memory>', totalBytes?: number, options: { idsOnly?: boolean } = {}) {
    this.source = source;
    this.nodes = new SnapshotNodeColumns(source, totalBytes);
    this.columns = options.idsOnly === true ? null : new SnapshotColumnSink(this.nodes, source, totalBytes);
    this.scanner = new HeapSnapshotScanner(source, this.nodes, this.columns);
  }

  /** Bytes consumed so far. */
  get bytesRead(): number {
    return this.scanner.bytesRead;
  }

  write(chunk: Uint8Array): void {
    this.scanner.write(chunk);
  }

  /** Finish: validate the whole snapshot and return its columns. */
  end(): RawHeapSnapshot {
    if (!this.columns) throw new Error('HeapSnapshotParser: end() after an idsOnly parse; use endIds()');
    const meta = this.scanner.finish();
    const at = this.scanner.bytesRead;
    for (const required of ['nodes', 'edges', 'strings']) {
      if (!this.scanner.saw(required)) throw new SnapshotCorruptError(this.source, at, `missing "${required}" array`);
    }
    return this.columns.end(meta, at);
  }

  /** Finish a parse made with `idsOnly`: the node ids, in node order. */
  endIds(): Uint32Array {
    this.scanner.finish();
    if (!this.scanner.saw('nodes'))
      throw new SnapshotCorruptError(this.source, this.scanner.bytesRead, 'missing "nodes" array');
    return this.nodes.ids();
  }
}
