/**
 * Streaming parser of the V8 `.heapsnapshot` format.
 *
 * The file is one JSON object: `{"snapshot":{"meta":…,"node_count":…,"edge_count":…},"nodes":[…],"edges":[…],
 * "trace_function_infos":[…],"trace_tree":[…],"samples":[…],"locations":[…],"strings":[…]}`.
 * Only the small `snapshot` header is handed to `JSON.parse`; the big arrays go through a byte-level
 * tokenizer that writes numbers straight into column typed arrays and strings into one table, so memory
 * stays close to the size of the graph, never of the text. Field order is read from `snapshot.meta`.
 *
 * Feed it chunks with `write(chunk)` (any split, including inside a number, a string or an escape) and
 * call `end()`; every problem throws a `HeapSnapshotFormatError` naming the byte offset.
 */
import { NotAHeapSnapshotError, SnapshotCorruptError, SnapshotTruncatedError } from './errors.js';

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

const MAX_U32 = 0xffffffff;
const MAX_CAPTURE = 64 * 1024 * 1024;

// Top-level states.
const ST_START = 0;
const ST_KEY_OR_END = 1;
const ST_KEY = 2;
const ST_COLON = 3;
const ST_VALUE = 4;
const ST_AFTER_VALUE = 5;
const ST_DONE = 6;
const ST_NUMBERS = 7;
const ST_STRINGS = 8;
const ST_SKIP = 9;
const ST_SKIP_NUMBERS = 10; // idsOnly: a number array, skipped to its ']'
const ST_SKIP_STRINGS = 11; // idsOnly: the strings array, skipped to its ']'

// Number-array sub-states.
const NS_FIRST = 0; // right after '[': a number or ']'
const NS_IN = 1; // inside a number
const NS_AFTER = 2; // after a number and whitespace: ',' or ']'
const NS_NEXT = 3; // after ',': a number

// Targets of a number array.
const T_NODES = 0;
const T_EDGES = 1;
const T_LOCATIONS = 2;

// Column kinds.
const K_SKIP = 0;
const K_TYPE = 1;
const K_NAME = 2;
const K_ID = 3;
const K_SELF_SIZE = 4;
const K_EDGE_COUNT = 5;
const K_DETACHEDNESS = 6;
const K_TO_NODE = 7;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class HeapSnapshotParser {
  private readonly source: string;
  private readonly totalBytes: number | undefined;
  private state = ST_START;
  private base = 0; // offset of the current chunk in the input
  private key = '';
  private keyBytes: number[] = [];
  private seen = new Set<string>();

  // generic value skipping / capture
  private skipStarted = false;
  private skipDepth = 0;
  private skipInString = false;
  private skipEscaped = false;
  private skipScalar = false;
  private skipStart = 0;
  private capture: Buffer[] | null = null;
  private captureBytes = 0;

  // number arrays
  private target = T_NODES;
  private numState = NS_FIRST;
  private acc = 0;
  private digits = 0;
  private column = 0;

  // string array
  private strState = NS_FIRST;
  private strEscaped = false;
  private strHasEscape = false;
  private strPieces: Buffer[] = [];
  private strStartOffset = 0;

  // result
  private meta: SnapshotMeta | null = null;
  private declaredNodeCount = -1;
  private declaredEdgeCount = -1;
  private nodeFieldCount = 0;
  private edgeFieldCount = 0;
  private nodeKinds = new Uint8Array(0);
  private edgeKinds = new Uint8Array(0);
  private locationFieldCount = 0;
  private locationObjectColumn = -1;
  private nodeCapacity = 0;
  private edgeCapacity = 0;
  private locationCapacity = 0;
  private nodes = 0; // complete nodes parsed
  private edges = 0;
  private locationValues = 0;
  private nodeType = new Uint8Array(0);
  private nodeName = new Uint32Array(0);
  private nodeId = new Uint32Array(0);
  private nodeSelfSize = new Float64Array(0);
  private nodeDetachedness: Uint8Array | null = null;
  private firstEdge = new Uint32Array(1);
  private edgeType = new Uint8Array(0);
  private edgeNameOrIndex = new Uint32Array(0);
  private edgeTo = new Uint32Array(0);
  private locations = new Uint32Array(0);
  private strings: string[] = [];
  private nodesDone = false;
  private nodesEndOffset = 0;
  private edgesEndOffset = 0;
  private stringsStartOffset = 0;

  /**
   * @param source name used in error messages (the file path).
   * @param totalBytes size of the whole input when known; used to reject absurd header counts early.
   */
  /** Parse only what `endIds()` needs: node columns; edges, strings and locations are skipped unread. */
  private readonly idsOnly: boolean;

  constructor(source = '<memory>', totalBytes?: number, options: { idsOnly?: boolean } = {}) {
    this.source = source;
    this.totalBytes = totalBytes;
    this.idsOnly = options.idsOnly === true;
  }

  /** Finish a parse made with `idsOnly`: the node ids, in node order. */
  endIds(): Uint32Array {
    this.checkComplete();
    if (!this.seen.has('nodes')) throw new SnapshotCorruptError(this.source, this.base, 'missing "nodes" array');
    if (this.declaredNodeCount >= 0 && this.declaredNodeCount !== this.nodes) {
      throw new SnapshotCorruptError(this.source, this.nodesEndOffset, `snapshot.node_count is ${this.declaredNodeCount} but "nodes" holds ${this.nodes}`);
    }
    return this.nodeId.subarray(0, this.nodes);
  }

  /** Bytes consumed so far. */
  get bytesRead(): number {
    return this.base;
  }

  write(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = buf.length;
    let i = 0;
    while (i < end) {
      switch (this.state) {
        case ST_NUMBERS:
          i = this.numbers(buf, i, end);
          break;
        case ST_STRINGS:
          i = this.stringArray(buf, i, end);
          break;
        case ST_SKIP:
          i = this.skip(buf, i, end);
          break;
        case ST_SKIP_NUMBERS:
          i = this.skipNumbers(buf, i, end);
          break;
        case ST_SKIP_STRINGS:
          i = this.skipStrings(buf, i, end);
          break;
        default:
          i = this.structure(buf, i, end);
      }
    }
    this.base += end;
  }

  /** Finish: validate the whole snapshot and return its columns. */
  end(): RawHeapSnapshot {
    if (this.idsOnly) throw new Error('HeapSnapshotParser: end() after an idsOnly parse; use endIds()');
    const meta = this.checkComplete();
    const at = this.base;
    for (const required of ['nodes', 'edges', 'strings']) {
      if (!this.seen.has(required)) throw new SnapshotCorruptError(this.source, at, `missing "${required}" array`);
    }
    const nodeCount = this.nodes;
    const edgeCount = this.edges;
    if (this.declaredNodeCount >= 0 && this.declaredNodeCount !== nodeCount) {
      throw new SnapshotCorruptError(this.source, this.nodesEndOffset, `snapshot.node_count is ${this.declaredNodeCount} but "nodes" holds ${nodeCount}`);
    }
    if (this.firstEdge[nodeCount] !== edgeCount) {
      throw new SnapshotCorruptError(this.source, this.edgesEndOffset, `nodes declare ${this.firstEdge[nodeCount]} edges but "edges" holds ${edgeCount}`);
    }
    const edgeTo = this.edgeTo;
    if (!this.nodesDone) {
      for (let e = 0; e < edgeCount; e++) {
        if (edgeTo[e]! >= nodeCount) throw new SnapshotCorruptError(this.source, this.edgesEndOffset, `edge ${e} points past the last node`);
      }
    }
    const stringCount = this.strings.length;
    const nodeName = this.nodeName;
    for (let n = 0; n < nodeCount; n++) {
      if (nodeName[n]! >= stringCount) {
        throw new SnapshotCorruptError(this.source, this.stringsStartOffset, `node ${n} names string ${nodeName[n]} but there are ${stringCount} strings`);
      }
    }
    const elementType = meta.edgeTypes.indexOf('element');
    const hiddenType = meta.edgeTypes.indexOf('hidden');
    const edgeType = this.edgeType;
    const edgeName = this.edgeNameOrIndex;
    for (let e = 0; e < edgeCount; e++) {
      const t = edgeType[e];
      if (t !== elementType && t !== hiddenType && edgeName[e]! >= stringCount) {
        throw new SnapshotCorruptError(this.source, this.stringsStartOffset, `edge ${e} names string ${edgeName[e]} but there are ${stringCount} strings`);
      }
    }
    if (this.locationFieldCount > 0 && this.locationValues % this.locationFieldCount !== 0) {
      throw new SnapshotCorruptError(this.source, at, '"locations" length is not a multiple of location_fields');
    }
    return {
      meta,
      nodeCount,
      edgeCount,
      nodeType: this.nodeType.subarray(0, nodeCount),
      nodeName: nodeName.subarray(0, nodeCount),
      nodeId: this.nodeId.subarray(0, nodeCount),
      nodeSelfSize: this.nodeSelfSize.subarray(0, nodeCount),
      nodeDetachedness: this.nodeDetachedness ? this.nodeDetachedness.subarray(0, nodeCount) : null,
      firstEdge: this.firstEdge.subarray(0, nodeCount + 1),
      edgeType: edgeType.subarray(0, edgeCount),
      edgeNameOrIndex: edgeName.subarray(0, edgeCount),
      edgeTo: edgeTo.subarray(0, edgeCount),
      strings: this.strings,
      locations: this.locations.subarray(0, this.locationValues),
      byteLength: this.base,
    };
  }

  /** The input must be one complete top-level object with a snapshot header. */
  private checkComplete(): SnapshotMeta {
    const at = this.base;
    if (this.state === ST_START) throw new NotAHeapSnapshotError(this.source, at, 'empty input, not a V8 heap snapshot');
    if (this.state !== ST_DONE) {
      if (!this.meta && this.key !== 'snapshot') throw new NotAHeapSnapshotError(this.source, at, 'input ended before a "snapshot" header was found');
      throw new SnapshotTruncatedError(this.source, at, `heap snapshot is truncated (input ended inside ${this.key ? `"${this.key}"` : 'the top-level object'})`);
    }
    if (!this.meta) throw new NotAHeapSnapshotError(this.source, 0, 'no "snapshot" header with "meta"; not a V8 heap snapshot');
    return this.meta;
  }

  // ---- structure: the top-level object, keys and the dispatch of values ----

  private structure(buf: Buffer, i: number, end: number): number {
    for (; i < end; i++) {
      const c = buf[i]!;
      switch (this.state) {
        case ST_START:
          if (isWhitespace(c)) continue;
          if (this.base + i === 0 && c === 0xef) {
            // UTF-8 byte-order mark: EF BB BF
            if (buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
              i += 2;
              continue;
            }
          }
          if (c !== 0x7b) throw new NotAHeapSnapshotError(this.source, this.base + i, `expected "{" but found ${describeByte(c)}; not a V8 heap snapshot`);
          this.state = ST_KEY_OR_END;
          continue;
        case ST_KEY_OR_END:
          if (isWhitespace(c)) continue;
          if (c === 0x22) {
            this.keyBytes = [];
            this.state = ST_KEY;
            continue;
          }
          if (c === 0x7d && this.seen.size === 0) {
            this.state = ST_DONE;
            continue;
          }
          throw this.unexpected(c, i, this.seen.size === 0 ? 'a key' : 'a key after ","');
        case ST_KEY:
          if (c === 0x22 && this.keyBytes[this.keyBytes.length - 1] !== 0x5c) {
            this.key = Buffer.from(this.keyBytes).toString('utf8');
            if (this.seen.has(this.key)) throw new SnapshotCorruptError(this.source, this.base + i, `duplicate key "${this.key}"`);
            this.seen.add(this.key);
            this.state = ST_COLON;
            continue;
          }
          if (this.keyBytes.length > 256) throw new NotAHeapSnapshotError(this.source, this.base + i, 'top-level key too long; not a V8 heap snapshot');
          this.keyBytes.push(c);
          continue;
        case ST_COLON:
          if (isWhitespace(c)) continue;
          if (c !== 0x3a) throw this.unexpected(c, i, '":"');
          this.state = ST_VALUE;
          continue;
        case ST_VALUE:
          if (isWhitespace(c)) continue;
          return this.beginValue(buf, i, c);
        case ST_AFTER_VALUE:
          if (isWhitespace(c)) continue;
          if (c === 0x2c) {
            this.state = ST_KEY_OR_END;
            continue;
          }
          if (c === 0x7d) {
            this.state = ST_DONE;
            this.key = '';
            continue;
          }
          throw this.unexpected(c, i, '"," or "}"');
        case ST_DONE:
          if (isWhitespace(c)) continue;
          throw new SnapshotCorruptError(this.source, this.base + i, `unexpected ${describeByte(c)} after the end of the snapshot`);
        default:
          return i;
      }
    }
    return i;
  }

  private beginValue(_buf: Buffer, i: number, c: number): number {
    const key = this.key;
    if (key === 'snapshot') {
      if (c !== 0x7b) throw new NotAHeapSnapshotError(this.source, this.base + i, '"snapshot" is not an object; not a V8 heap snapshot');
      this.startSkip(true);
      return i;
    }
    if (key === 'nodes' || (!this.idsOnly && (key === 'edges' || key === 'locations' || key === 'strings'))) {
      if (!this.meta) throw new NotAHeapSnapshotError(this.source, this.base + i, `"${key}" before the "snapshot" header; not a V8 heap snapshot`);
      if (c !== 0x5b) throw this.unexpected(c, i, `"[" to start "${key}"`);
      if (key === 'strings') {
        this.state = ST_STRINGS;
        this.strState = NS_FIRST;
        this.stringsStartOffset = this.base + i;
        return i + 1;
      }
      this.target = key === 'nodes' ? T_NODES : key === 'edges' ? T_EDGES : T_LOCATIONS;
      this.state = ST_NUMBERS;
      this.numState = NS_FIRST;
      this.acc = 0;
      this.digits = 0;
      this.column = 0;
      return i + 1;
    }
    if (this.idsOnly && (key === 'edges' || key === 'locations' || key === 'strings')) {
      if (c !== 0x5b) throw this.unexpected(c, i, `"[" to start "${key}"`);
      this.state = key === 'strings' ? ST_SKIP_STRINGS : ST_SKIP_NUMBERS;
      this.strEscaped = false;
      this.skipInString = false;
      return i + 1;
    }
    // trace_function_infos, trace_tree, samples and anything newer: not needed, skipped without storing.
    this.startSkip(false);
    return i;
  }

  private unexpected(c: number, i: number, expected: string): SnapshotCorruptError {
    return new SnapshotCorruptError(this.source, this.base + i, `expected ${expected} but found ${describeByte(c)}`);
  }

  // ---- generic JSON value skipping (and capture of the small "snapshot" header) ----

  private startSkip(capture: boolean): void {
    this.state = ST_SKIP;
    this.skipStarted = false;
    this.skipDepth = 0;
    this.skipInString = false;
    this.skipEscaped = false;
    this.skipScalar = false;
    this.capture = capture ? [] : null;
    this.captureBytes = 0;
  }

  /** An array of numbers cannot contain "]" before its end: jump there (memchr). Content is not validated. */
  private skipNumbers(buf: Buffer, i: number, end: number): number {
    const close = buf.indexOf(0x5d, i);
    if (close < 0 || close >= end) return end;
    this.state = ST_AFTER_VALUE;
    return close + 1;
  }

  /** The strings array: jump from quote to quote (memchr), honouring backslash escapes, to the "]" outside a string. */
  private skipStrings(buf: Buffer, i: number, end: number): number {
    while (i < end) {
      if (this.skipInString) {
        if (this.strEscaped) {
          // the first byte of this chunk is escaped by a backslash that ended the previous one
          this.strEscaped = false;
          i++;
          continue;
        }
        const q = buf.indexOf(0x22, i);
        if (q < 0 || q >= end) {
          // remember whether the chunk ends in an odd run of backslashes
          let run = 0;
          for (let k = end - 1; k >= i && buf[k] === 0x5c; k--) run++;
          this.strEscaped = (run & 1) === 1;
          return end;
        }
        let run = 0;
        for (let k = q - 1; k >= i && buf[k] === 0x5c; k--) run++;
        i = q + 1;
        if ((run & 1) === 0) this.skipInString = false;
        continue;
      }
      const c = buf[i]!;
      if (c === 0x22) this.skipInString = true;
      else if (c === 0x5d) {
        this.state = ST_AFTER_VALUE;
        return i + 1;
      }
      i++;
    }
    return i;
  }

  private skip(buf: Buffer, i: number, end: number): number {
    const start = i;
    let done = false;
    let inString = this.skipInString;
    let escaped = this.skipEscaped;
    let depth = this.skipDepth;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) {
          inString = false;
          if (depth === 0) {
            i++;
            done = true;
            break;
          }
        }
        continue;
      }
      // Fast path for the bulk of skipped sections: numbers, commas, whitespace.
      if ((c >= 0x30 && c <= 0x39) || c === 0x2c || c === 0x0a) {
        if (this.skipStarted && !this.skipScalar) continue;
      }
      if (!this.skipStarted) {
        if (isWhitespace(c)) continue;
        this.skipStarted = true;
        this.skipStart = this.base + i;
        if (c === 0x7b || c === 0x5b) depth = 1;
        else if (c === 0x22) inString = true;
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) this.skipScalar = true;
        else throw this.unexpected(c, i, `a value for "${this.key}"`);
        continue;
      }
      if (this.skipScalar) {
        if (c === 0x2c || c === 0x7d || c === 0x5d || isWhitespace(c)) {
          done = true;
          break;
        }
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) {
          i++;
          done = true;
          break;
        }
      }
    }
    this.skipInString = inString;
    this.skipEscaped = escaped;
    this.skipDepth = depth;
    if (this.capture) {
      this.captureBytes += i - start;
      if (this.captureBytes > MAX_CAPTURE) throw new SnapshotCorruptError(this.source, this.base + i, `"${this.key}" header is larger than ${MAX_CAPTURE} bytes`);
      this.capture.push(Buffer.from(buf.subarray(start, i)));
    }
    if (done) {
      this.state = ST_AFTER_VALUE;
      if (this.capture) {
        const text = Buffer.concat(this.capture).toString('utf8');
        this.capture = null;
        this.readHeader(text, this.skipStart);
      }
    }
    return i;
  }

  private readHeader(text: string, offset: number): void {
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (error) {
      throw new SnapshotCorruptError(this.source, offset, `"snapshot" header is not valid JSON (${(error as Error).message})`);
    }
    const h = header as { meta?: Record<string, unknown>; node_count?: unknown; edge_count?: unknown };
    const m = h.meta;
    const bad = (what: string): never => {
      throw new NotAHeapSnapshotError(this.source, offset, `snapshot.meta ${what}; not a V8 heap snapshot`);
    };
    if (!m || typeof m !== 'object') throw new NotAHeapSnapshotError(this.source, offset, 'snapshot.meta is missing; not a V8 heap snapshot');
    const strings = (v: unknown, name: string): string[] => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : bad(`.${name} is not a list of names`));
    const nodeFields = strings(m.node_fields, 'node_fields');
    const edgeFields = strings(m.edge_fields, 'edge_fields');
    const nodeTypes = strings(Array.isArray(m.node_types) ? m.node_types[nodeFields.indexOf('type')] : undefined, 'node_types[type]');
    const edgeTypes = strings(Array.isArray(m.edge_types) ? m.edge_types[edgeFields.indexOf('type')] : undefined, 'edge_types[type]');
    const locationFields = m.location_fields === undefined ? [] : strings(m.location_fields, 'location_fields');
    for (const f of ['type', 'name', 'id', 'self_size', 'edge_count']) if (!nodeFields.includes(f)) bad(`.node_fields lacks "${f}"`);
    for (const f of ['type', 'name_or_index', 'to_node']) if (!edgeFields.includes(f)) bad(`.edge_fields lacks "${f}"`);
    if (nodeTypes.length > 255 || edgeTypes.length > 255) bad('declares more than 255 types');
    this.meta = { nodeFields, nodeTypes, edgeFields, edgeTypes, locationFields };
    this.nodeFieldCount = nodeFields.length;
    this.edgeFieldCount = edgeFields.length;
    this.nodeKinds = Uint8Array.from(nodeFields, (f) =>
      f === 'type' ? K_TYPE : f === 'name' ? K_NAME : f === 'id' ? K_ID : f === 'self_size' ? K_SELF_SIZE : f === 'edge_count' ? K_EDGE_COUNT : f === 'detachedness' ? K_DETACHEDNESS : K_SKIP,
    );
    this.edgeKinds = Uint8Array.from(edgeFields, (f) => (f === 'type' ? K_TYPE : f === 'name_or_index' ? K_NAME : f === 'to_node' ? K_TO_NODE : K_SKIP));
    this.locationFieldCount = locationFields.length;
    this.locationObjectColumn = locationFields.indexOf('object_index');
    const count = (v: unknown, _fieldCount: number, name: string): number => {
      if (v === undefined) return -1;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_U32) {
        throw new SnapshotCorruptError(this.source, offset, `snapshot.${name} is not a valid count`);
      }
      return v;
    };
    this.declaredNodeCount = count(h.node_count, this.nodeFieldCount, 'node_count');
    this.declaredEdgeCount = count(h.edge_count, this.edgeFieldCount, 'edge_count');
    // Every value takes at least two bytes ("0,"): never allocate for more than the file can hold.
    // A count the file cannot hold is not judged here: a file cut short ends before its arrays do
    // (SnapshotTruncatedError where it ends), a whole file with a wrong count fails the count check.
    const fits = (fieldCount: number): number => (this.totalBytes === undefined ? Infinity : Math.floor((this.totalBytes + 2) / (fieldCount * 2)));
    this.growNodes(this.declaredNodeCount >= 0 ? Math.min(this.declaredNodeCount, fits(this.nodeFieldCount)) : 1 << 16);
    if (!this.idsOnly) this.growEdges(this.declaredEdgeCount >= 0 ? Math.min(this.declaredEdgeCount, fits(this.edgeFieldCount)) : 1 << 18);
    if (nodeFields.includes('detachedness')) this.nodeDetachedness = new Uint8Array(this.nodeCapacity);
  }

  // ---- number arrays: nodes, edges, locations ----

  private numbers(buf: Buffer, i: number, end: number): number {
    let acc = this.acc;
    let digits = this.digits;
    let ns = this.numState;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x30 && c <= 0x39) {
        if (ns === NS_AFTER) throw this.unexpected(c, i, `"," or "]" in "${this.key}"`);
        acc = acc * 10 + (c - 0x30);
        ns = NS_IN;
        if (++digits > 15) throw new SnapshotCorruptError(this.source, this.base + i, `number too large in "${this.key}"`);
        continue;
      }
      if (c === 0x2c) {
        if (ns !== NS_IN && ns !== NS_AFTER) throw this.unexpected(c, i, `a number in "${this.key}"`);
        this.emit(acc, i);
        acc = 0;
        digits = 0;
        ns = NS_NEXT;
        continue;
      }
      if (isWhitespace(c)) {
        if (ns === NS_IN) ns = NS_AFTER;
        continue;
      }
      if (c === 0x5d) {
        if (ns === NS_IN || ns === NS_AFTER) this.emit(acc, i);
        else if (ns === NS_NEXT) throw this.unexpected(c, i, `a number after "," in "${this.key}"`);
        this.finishNumbers(i);
        this.acc = 0;
        this.digits = 0;
        return i + 1;
      }
      throw this.unexpected(c, i, `a non-negative integer in "${this.key}"`);
    }
    this.acc = acc;
    this.digits = digits;
    this.numState = ns;
    return i;
  }

  private emit(v: number, i: number): void {
    const target = this.target;
    if (target === T_NODES) {
      const col = this.column;
      const n = this.nodes;
      if (col === 0 && n === this.nodeCapacity) {
        if (this.declaredNodeCount >= 0) throw new SnapshotCorruptError(this.source, this.base + i, `more nodes than snapshot.node_count (${this.declaredNodeCount})`);
        this.growNodes(this.nodeCapacity * 2);
      }
      switch (this.nodeKinds[col]) {
        case K_TYPE:
          if (v >= this.meta!.nodeTypes.length) throw new SnapshotCorruptError(this.source, this.base + i, `node ${n} has unknown type ${v}`);
          this.nodeType[n] = v;
          break;
        case K_NAME:
          if (v > MAX_U32) throw new SnapshotCorruptError(this.source, this.base + i, `node ${n} name index out of range`);
          this.nodeName[n] = v;
          break;
        case K_ID:
          if (v > MAX_U32) throw new SnapshotCorruptError(this.source, this.base + i, `node ${n} id out of range`);
          this.nodeId[n] = v;
          break;
        case K_SELF_SIZE:
          this.nodeSelfSize[n] = v;
          break;
        case K_EDGE_COUNT: {
          const total = this.firstEdge[n]! + v;
          if (total > MAX_U32) throw new SnapshotCorruptError(this.source, this.base + i, 'more than 2^32 edges');
          this.firstEdge[n + 1] = total;
          break;
        }
        case K_DETACHEDNESS:
          this.nodeDetachedness![n] = Math.min(v, 255);
          break;
        default:
          break;
      }
      if (++this.column === this.nodeFieldCount) {
        this.column = 0;
        this.nodes = n + 1;
      }
    } else if (target === T_EDGES) {
      const col = this.column;
      const e = this.edges;
      if (col === 0 && e === this.edgeCapacity) {
        if (this.declaredEdgeCount >= 0) throw new SnapshotCorruptError(this.source, this.base + i, `more edges than snapshot.edge_count (${this.declaredEdgeCount})`);
        this.growEdges(this.edgeCapacity * 2);
      }
      switch (this.edgeKinds[col]) {
        case K_TYPE:
          if (v >= this.meta!.edgeTypes.length) throw new SnapshotCorruptError(this.source, this.base + i, `edge ${e} has unknown type ${v}`);
          this.edgeType[e] = v;
          break;
        case K_NAME:
          if (v > MAX_U32) throw new SnapshotCorruptError(this.source, this.base + i, `edge ${e} name out of range`);
          this.edgeNameOrIndex[e] = v;
          break;
        case K_TO_NODE: {
          const ordinal = v / this.nodeFieldCount;
          if (ordinal !== Math.floor(ordinal) || (this.nodesDone && ordinal >= this.nodes)) {
            throw new SnapshotCorruptError(this.source, this.base + i, `edge ${e} points to ${v}, which is not the start of a node`);
          }
          this.edgeTo[e] = ordinal;
          break;
        }
        default:
          break;
      }
      if (++this.column === this.edgeFieldCount) {
        this.column = 0;
        this.edges = e + 1;
      }
    } else {
      if (this.locationValues === this.locationCapacity) this.growLocations();
      let value = v;
      if (this.locationFieldCount > 0 && this.locationValues % this.locationFieldCount === this.locationObjectColumn) value = v / this.nodeFieldCount;
      this.locations[this.locationValues++] = Math.min(value, MAX_U32);
    }
  }

  private finishNumbers(i: number): void {
    if (this.target === T_NODES) {
      if (this.column !== 0) throw new SnapshotCorruptError(this.source, this.base + i, `"nodes" ends inside a node (length is not a multiple of ${this.nodeFieldCount})`);
      this.nodesDone = true;
      this.nodesEndOffset = this.base + i;
    } else if (this.target === T_EDGES) {
      if (this.column !== 0) throw new SnapshotCorruptError(this.source, this.base + i, `"edges" ends inside an edge (length is not a multiple of ${this.edgeFieldCount})`);
      this.edgesEndOffset = this.base + i;
    }
    this.state = ST_AFTER_VALUE;
  }

  private growNodes(capacity: number): void {
    const cap = Math.max(capacity, 1);
    const copy = <T extends Uint8Array | Uint32Array | Float64Array>(old: T, make: (n: number) => T, len: number): T => {
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

  // ---- the strings table ----

  private stringArray(buf: Buffer, i: number, end: number): number {
    while (i < end) {
      if (this.strState === NS_IN) {
        const start = i;
        let escaped = this.strEscaped;
        let hasEscape = this.strHasEscape;
        for (; i < end; i++) {
          const c = buf[i]!;
          if (escaped) escaped = false;
          else if (c === 0x5c) {
            escaped = true;
            hasEscape = true;
          } else if (c === 0x22) break;
        }
        this.strEscaped = escaped;
        this.strHasEscape = hasEscape;
        if (i === end) {
          this.strPieces.push(Buffer.from(buf.subarray(start, end)));
          return i;
        }
        // closing quote at i
        let bytes: Buffer;
        let s = start;
        let e = i;
        if (this.strPieces.length > 0) {
          this.strPieces.push(buf.subarray(start, i));
          bytes = Buffer.concat(this.strPieces);
          this.strPieces = [];
          s = 0;
          e = bytes.length;
        } else {
          bytes = buf;
        }
        this.strings.push(hasEscape ? decodeJsonString(bytes, s, e, this.source, this.strStartOffset) : bytes.toString('utf8', s, e));
        this.strState = NS_AFTER;
        i++;
        continue;
      }
      const c = buf[i]!;
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      if (c === 0x22 && this.strState !== NS_AFTER) {
        this.strState = NS_IN;
        this.strEscaped = false;
        this.strHasEscape = false;
        this.strStartOffset = this.base + i + 1;
        i++;
        continue;
      }
      if (c === 0x2c && this.strState === NS_AFTER) {
        this.strState = NS_NEXT;
        i++;
        continue;
      }
      if (c === 0x5d && this.strState !== NS_NEXT) {
        this.state = ST_AFTER_VALUE;
        return i + 1;
      }
      throw this.unexpected(c, i, this.strState === NS_AFTER ? '"," or "]" in "strings"' : 'a string in "strings"');
    }
    return i;
  }
}

/** Decode the body of a JSON string that contains escapes (`\n`, `\"`, `\uXXXX` including surrogate pairs). */
export function decodeJsonString(bytes: Buffer, start: number, end: number, source = '<memory>', offset = 0): string {
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    if (bytes[i] !== 0x5c) {
      i++;
      continue;
    }
    if (i > run) out += bytes.toString('utf8', run, i);
    const esc = bytes[i + 1];
    let width = 2;
    switch (esc) {
      case 0x22:
        out += '"';
        break;
      case 0x5c:
        out += '\\';
        break;
      case 0x2f:
        out += '/';
        break;
      case 0x62:
        out += '\b';
        break;
      case 0x66:
        out += '\f';
        break;
      case 0x6e:
        out += '\n';
        break;
      case 0x72:
        out += '\r';
        break;
      case 0x74:
        out += '\t';
        break;
      case 0x75: {
        let code = 0;
        for (let k = i + 2; k < i + 6; k++) {
          const h = k < end ? hexValue(bytes[k]!) : -1;
          if (h < 0) throw new SnapshotCorruptError(source, offset + (k - start), 'invalid \\u escape in a string');
          code = code * 16 + h;
        }
        // Surrogate halves are emitted as separate UTF-16 code units; a pair recombines into one code point.
        out += String.fromCharCode(code);
        width = 6;
        break;
      }
      default:
        throw new SnapshotCorruptError(source, offset + (i - start), 'invalid escape in a string');
    }
    i += width;
    run = i;
  }
  if (end > run) out += bytes.toString('utf8', run, end);
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function describeByte(c: number): string {
  if (c >= 0x20 && c < 0x7f) return `"${String.fromCharCode(c)}"`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
