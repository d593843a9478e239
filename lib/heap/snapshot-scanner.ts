/**
 * The byte-level scanner of a V8 `.heapsnapshot`: one JSON object
 * `{"snapshot":{"meta":…,"node_count":…,"edge_count":…},"nodes":[…],"edges":[…],
 * "trace_function_infos":[…],"trace_tree":[…],"samples":[…],"locations":[…],"strings":[…]}`.
 * Only the small `snapshot` header is handed to `JSON.parse` (snapshot-header.ts); the big arrays are
 * tokenized here, each number and each string handed to a sink (snapshot-sink.ts) as it is read, so
 * memory stays what the sink keeps, never the text. Arrays the sink does not take are skipped unread,
 * values of other keys skipped without storing.
 *
 * Feed it chunks with `write(chunk)` (any split, including inside a number, a string or an escape) and
 * call `finish()`; every problem throws a `HeapSnapshotFormatError` naming the byte offset.
 */
import { decodeJsonString } from './decode-json-string.js';
import { NotAHeapSnapshotError, SnapshotCorruptError, SnapshotTruncatedError } from './errors.js';
import type { SnapshotMeta } from './raw-heap-snapshot.js';
import { readSnapshotHeader, type SnapshotHeader } from './snapshot-header.js';
import type { SnapshotGraphSink, SnapshotNodeSink } from './snapshot-sink.js';

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
const ST_SKIP_NUMBERS = 10; // a number array the sink does not take, skipped to its ']'
const ST_SKIP_STRINGS = 11; // the strings array when the sink does not take it, skipped to its ']'

// Number-array sub-states.
const NS_FIRST = 0; // right after '[': a number or ']'
const NS_IN = 1; // inside a number
const NS_AFTER = 2; // after a number and whitespace: ',' or ']'
const NS_NEXT = 3; // after ',': a number

// Targets of a number array.
const T_NODES = 0;
const T_EDGES = 1;
const T_LOCATIONS = 2;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class HeapSnapshotScanner {
  private readonly source: string;
  private readonly nodes: SnapshotNodeSink;
  /** Where edges, locations and strings go; null when only the nodes are read. */
  private readonly graph: SnapshotGraphSink | null;
  private state = ST_START;
  private base = 0; // offset of the current chunk in the input
  private key = '';
  private keyBytes: number[] = [];
  private seen = new Set<string>();
  private header: SnapshotHeader | null = null;

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

  // string array
  private strState = NS_FIRST;
  private strEscaped = false;
  private strHasEscape = false;
  private strPieces: Buffer[] = [];
  private strStartOffset = 0;

  /** @param source name used in error messages (the file path). */
  constructor(source: string, nodes: SnapshotNodeSink, graph: SnapshotGraphSink | null) {
    this.source = source;
    this.nodes = nodes;
    this.graph = graph;
  }

  /** Bytes consumed so far. */
  get bytesRead(): number {
    return this.base;
  }

  /** Whether the top-level object had this key. */
  saw(key: string): boolean {
    return this.seen.has(key);
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

  /** The input must be one complete top-level object with a snapshot header: its field layout. */
  finish(): SnapshotMeta {
    const at = this.base;
    if (this.state === ST_START)
      throw new NotAHeapSnapshotError(this.source, at, 'empty input, not a V8 heap snapshot');
    if (this.state !== ST_DONE) {
      if (!this.header && this.key !== 'snapshot')
        throw new NotAHeapSnapshotError(this.source, at, 'input ended before a "snapshot" header was found');
      throw new SnapshotTruncatedError(
        this.source,
        at,
        `heap snapshot is truncated (input ended inside ${this.key ? `"${this.key}"` : 'the top-level object'})`,
      );
    }
    if (!this.header)
      throw new NotAHeapSnapshotError(this.source, 0, 'no "snapshot" header with "meta"; not a V8 heap snapshot');
    return this.header.meta;
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
          if (c !== 0x7b)
            throw new NotAHeapSnapshotError(
              this.source,
              this.base + i,
              `expected "{" but found ${describeByte(c)}; not a V8 heap snapshot`,
            );
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
            if (this.seen.has(this.key))
              throw new SnapshotCorruptError(this.source, this.base + i, `duplicate key "${this.key}"`);
            this.seen.add(this.key);
            this.state = ST_COLON;
            continue;
          }
          if (this.keyBytes.length > 256)
            throw new NotAHeapSnapshotError(
              this.source,
              this.base + i,
              'top-level key too long; not a V8 heap snapshot',
            );
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
          throw new SnapshotCorruptError(
            this.source,
            this.base + i,
            `unexpected ${describeByte(c)} after the end of the snapshot`,
          );
        default:
          return i;
      }
    }
    return i;
  }

  private beginValue(_buf: Buffer, i: number, c: number): number {
    const key = this.key;
    if (key === 'snapshot') {
      if (c !== 0x7b)
        throw new NotAHeapSnapshotError(
          this.source,
          this.base + i,
          '"snapshot" is not an object; not a V8 heap snapshot',
        );
      this.startSkip(true);
      return i;
    }
    if (key === 'nodes' || (this.graph !== null && (key === 'edges' || key === 'locations' || key === 'strings'))) {
      if (!this.header)
        throw new NotAHeapSnapshotError(
          this.source,
          this.base + i,
          `"${key}" before the "snapshot" header; not a V8 heap snapshot`,
        );
      if (c !== 0x5b) throw this.unexpected(c, i, `"[" to start "${key}"`);
      if (key === 'strings') {
        this.state = ST_STRINGS;
        this.strState = NS_FIRST;
        this.graph!.stringsStart(this.base + i);
        return i + 1;
      }
      this.target = key === 'nodes' ? T_NODES : key === 'edges' ? T_EDGES : T_LOCATIONS;
      if (this.target === T_EDGES) this.graph!.edgesStart();
      this.state = ST_NUMBERS;
      this.numState = NS_FIRST;
      this.acc = 0;
      this.digits = 0;
      return i + 1;
    }
    if (this.graph === null && (key === 'edges' || key === 'locations' || key === 'strings')) {
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
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e)
          this.skipScalar = true;
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
      if (this.captureBytes > MAX_CAPTURE)
        throw new SnapshotCorruptError(
          this.source,
          this.base + i,
          `"${this.key}" header is larger than ${MAX_CAPTURE} bytes`,
        );
      this.capture.push(Buffer.from(buf.subarray(start, i)));
    }
    if (done) {
      this.state = ST_AFTER_VALUE;
      if (this.capture) {
        const text = Buffer.concat(this.capture).toString('utf8');
        this.capture = null;
        this.header = readSnapshotHeader(text, this.source, this.skipStart);
        this.nodes.header(this.header);
        this.graph?.header(this.header);
      }
    }
    return i;
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
        if (++digits > 15)
          throw new SnapshotCorruptError(this.source, this.base + i, `number too large in "${this.key}"`);
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
    if (target === T_NODES) this.nodes.nodeValue(v, this.base + i);
    else if (target === T_EDGES) this.graph!.edgeValue(v, this.base + i);
    else this.graph!.locationValue(v);
  }

  private finishNumbers(i: number): void {
    if (this.target === T_NODES) this.nodes.nodesEnd(this.base + i);
    else if (this.target === T_EDGES) this.graph!.edgesEnd(this.base + i);
    this.state = ST_AFTER_VALUE;
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
        this.graph!.string(
          hasEscape ? decodeJsonString(bytes, s, e, this.source, this.strStartOffset) : bytes.toString('utf8', s, e),
        );
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

function describeByte(c: number): string {
  if (c >= 0x20 && c < 0x7f) return `"${String.fromCharCode(c)}"`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
