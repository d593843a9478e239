/**
 * `loadHeapSnapshot(path)`: stream a `.heapsnapshot` file through the tokenizer into a `HeapSnapshot`.
 * The file is read in fixed-size chunks into one reused buffer; memory is the graph, not the text.
 */
import { open } from 'node:fs/promises';
import { functionOption, numberOption, optionalObject, optionKeys } from '../validate.js';
import { InvalidOptionError } from '../errors.js';
import { HeapSnapshotReadError } from './errors.js';
import { HeapSnapshot } from './heap-snapshot.js';
import { HeapSnapshotParser } from './snapshot-parser.js';

const LOAD_HEAP_SNAPSHOT_OPTION_KEYS = optionKeys<LoadHeapSnapshotOptions>({ onProgress: true, chunkSize: true });

export interface LoadProgress {
  phase: 'read';
  bytesRead: number;
  totalBytes: number;
}

export interface LoadHeapSnapshotOptions {
  /** Called after each chunk with the bytes read so far. */
  onProgress?: (progress: LoadProgress) => void;
  /** Read size in bytes (default 4 MiB). */
  chunkSize?: number;
}

export async function loadHeapSnapshot(path: string, options?: LoadHeapSnapshotOptions): Promise<HeapSnapshot> {
  const parser = await readSnapshot(path, options, false);
  return new HeapSnapshot(parser.end(), path);
}

/**
 * Only the node ids of a snapshot file (what the baseline and target of leak finding need): edges and
 * strings are skipped unread, so this is faster and needs a fraction of the memory of a full load.
 */
export async function loadHeapSnapshotIds(path: string, options?: LoadHeapSnapshotOptions): Promise<Uint32Array> {
  const parser = await readSnapshot(path, options, true);
  return parser.endIds();
}

async function readSnapshot(
  path: string,
  options: LoadHeapSnapshotOptions | undefined,
  idsOnly: boolean,
): Promise<HeapSnapshotParser> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a non-empty string', path);
  const opts = optionalObject<LoadHeapSnapshotOptions>('options', options, LOAD_HEAP_SNAPSHOT_OPTION_KEYS);
  const onProgress = functionOption<(p: LoadProgress) => void>('onProgress', opts.onProgress);
  const chunkSize = numberOption('chunkSize', opts.chunkSize, 4 * 1024 * 1024, { min: 1, max: 1 << 30, integer: true });

  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new HeapSnapshotReadError(path, { cause: error });
  }
  try {
    let totalBytes: number;
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new Error('not a regular file');
      totalBytes = st.size;
    } catch (error) {
      throw new HeapSnapshotReadError(path, { cause: error });
    }
    const parser = new HeapSnapshotParser(path, totalBytes, { idsOnly });
    const buffer = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(totalBytes, 1)));
    let bytesRead = 0;
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buffer, 0, buffer.length, null));
      } catch (error) {
        throw new HeapSnapshotReadError(path, { cause: error });
      }
      if (n === 0) break;
      parser.write(n === buffer.length ? buffer : buffer.subarray(0, n));
      bytesRead += n;
      onProgress?.({ phase: 'read', bytesRead, totalBytes: Math.max(totalBytes, bytesRead) });
    }
    return parser;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Parse a snapshot already in memory (e.g. assembled from inspector chunks). */
export function parseHeapSnapshot(input: string | Uint8Array, source = '<memory>'): HeapSnapshot {
  if (typeof input !== 'string' && !(input instanceof Uint8Array))
    throw new InvalidOptionError('input', 'a string or a Uint8Array', input);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const parser = new HeapSnapshotParser(source, bytes.byteLength);
  parser.write(bytes);
  return new HeapSnapshot(parser.end(), source);
}
