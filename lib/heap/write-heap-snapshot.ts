/**
 * `writeHeapSnapshot({ dir, onProgress })`: capture a heap snapshot of this isolate to a file.
 *
 * Before writing, the free space of `dir` is checked against an estimate of the snapshot size (twice the
 * used JS heap plus 16 MiB, unless `minFreeBytes` says otherwise); too little space fails with
 * `InsufficientDiskSpaceError` and writes nothing. The snapshot is written under a temporary name in
 * `dir` and gets its final name only once complete (lib/atomic-file.ts): a crash or `process.exit()`
 * during the capture never leaves a truncated `.heapsnapshot`. A failure while writing (ENOSPC,
 * inspector error) removes the partial file and rejects with `HeapSnapshotCaptureError`. Captures in one thread are
 * serialised: V8 stops the world for each, and two at once would only double the pause.
 */
import { access, statfs } from 'node:fs/promises';
import { commitTemporaryFile, discardTemporaryFile, temporaryPathFor } from '../atomic-file.js';
import { resolve, join, basename } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { HangwatchError, InvalidOptionError } from '../errors.js';
import { enumOption, functionOption, numberOption, optionalObject, optionKeys, stringOption } from '../validate.js';
import { chooseHeapSnapshotWriter, type CaptureProgress, type HeapSnapshotBackend } from '../capture/heap-snapshot.js';
import { buildScriptLineEnds } from '../../native-free-fallbacks/script-line-ends.js';
import { HeapBackendUnavailableError, HeapSnapshotCaptureError, InsufficientDiskSpaceError } from './errors.js';

const WRITE_HEAP_SNAPSHOT_OPTION_KEYS = optionKeys<WriteHeapSnapshotOptions>({
  dir: true,
  filename: true,
  onProgress: true,
  backend: true,
  minFreeBytes: true,
});

export type { CaptureProgress, HeapSnapshotBackend };

export interface WriteHeapSnapshotOptions {
  /** Directory to write to (default: the current directory). */
  dir?: string;
  /** File name inside `dir` (default `hangwatch-<pid>-<time>-<n>.heapsnapshot`). */
  filename?: string;
  /** Bytes written so far (after each chunk with the inspector backend) and once when done. */
  onProgress?: (progress: CaptureProgress) => void;
  /** `auto` (default: inspector, else v8), `inspector`, `v8`, or `heapdump` (optional native addon). */
  backend?: HeapSnapshotBackend | 'auto';
  /** Free bytes required in `dir` before capturing; default 2 × used heap + 16 MiB; 0 disables the check. */
  minFreeBytes?: number;
}

let sequence = 0;
let queue: Promise<unknown> = Promise.resolve();

/** Resolves to the absolute path of the written snapshot. */
export function writeHeapSnapshot(options?: WriteHeapSnapshotOptions): Promise<string> {
  let run: () => Promise<string>;
  try {
    run = prepare(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

function prepare(options: WriteHeapSnapshotOptions | undefined): () => Promise<string> {
  const opts = optionalObject<WriteHeapSnapshotOptions>('options', options, WRITE_HEAP_SNAPSHOT_OPTION_KEYS);
  const dir = resolve(stringOption('dir', opts.dir, process.cwd()));
  const filename = stringOption('filename', opts.filename);
  if (filename !== undefined && (filename.length === 0 || basename(filename) !== filename)) {
    throw new InvalidOptionError('filename', 'a plain file name without directories', filename);
  }
  const onProgress = functionOption<(p: CaptureProgress) => void>('onProgress', opts.onProgress);
  const backend = enumOption('backend', opts.backend, ['auto', 'inspector', 'v8', 'heapdump'] as const, 'auto');
  const minFreeBytes =
    opts.minFreeBytes === undefined ? undefined : numberOption('minFreeBytes', opts.minFreeBytes, 0, { min: 0 });

  return async () => {
    const file = join(dir, filename ?? `hangwatch-${process.pid}-${timestamp()}-${++sequence}.heapsnapshot`);
    const required = minFreeBytes ?? 2 * getHeapStatistics().used_heap_size + 16 * 1024 * 1024;
    if (required > 0) {
      let available: number;
      try {
        const st = await statfs(dir);
        available = Number(st.bavail) * Number(st.bsize);
      } catch (error) {
        throw new HeapSnapshotCaptureError(`cannot check free space in ${dir}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (available < required) throw new InsufficientDiskSpaceError(dir, available, required);
    }
    const writer = await chooseHeapSnapshotWriter(backend);
    if ('unavailable' in writer)
      throw new HeapBackendUnavailableError(writer.unavailable, writer.reason, { cause: writer.cause });
    // An existing file is never overwritten (v8.writeHeapSnapshot would): checked before the capture, and
    // the final name is claimed atomically when the complete snapshot gets it.
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      throw new HeapSnapshotCaptureError(`${file} already exists`);
    const temporary = temporaryPathFor(file);
    try {
      buildScriptLineEnds();
      await writer.write(temporary, onProgress);
      commitTemporaryFile(temporary, file, true);
    } catch (error) {
      discardTemporaryFile(temporary);
      if (error instanceof HangwatchError) throw error;
      const code = (error as NodeJS.ErrnoException)?.code;
      if (code === 'EEXIST') throw new HeapSnapshotCaptureError(`${file} already exists`, { cause: error });
      throw new HeapSnapshotCaptureError(
        `heap snapshot (${writer.name}) to ${file} failed: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
    return file;
  };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
}
