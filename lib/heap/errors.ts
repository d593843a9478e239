/**
 * Typed errors of the heap-snapshot capability. Codes are stable; messages are for humans.
 */
import { HangwatchError, type HangwatchErrorOptions } from '../errors.js';

/** Base of the three "this file cannot be read as a V8 heap snapshot" errors; `offset` is the byte where reading stopped. */
export class HeapSnapshotFormatError extends HangwatchError {
  declare readonly code: 'ERR_SNAPSHOT_TRUNCATED' | 'ERR_SNAPSHOT_CORRUPT' | 'ERR_NOT_A_HEAP_SNAPSHOT';
  /** File the snapshot was read from, or `<memory>` for in-memory input. */
  readonly path: string;
  /** Zero-based byte offset in the input where the problem was detected. */
  readonly offset: number;
  constructor(
    code: HeapSnapshotFormatError['code'],
    path: string,
    offset: number,
    detail: string,
    options: HangwatchErrorOptions = {},
  ) {
    super(code, `hangwatch: ${path}: ${detail} (at byte offset ${offset})`, options);
    this.path = path;
    this.offset = offset;
  }
}

/** The input ends before the snapshot does (an interrupted write, a partial copy). */
export class SnapshotTruncatedError extends HeapSnapshotFormatError {
  declare readonly code: 'ERR_SNAPSHOT_TRUNCATED';
  constructor(path: string, offset: number, detail = 'heap snapshot is truncated') {
    super('ERR_SNAPSHOT_TRUNCATED', path, offset, detail);
  }
}

/** The input starts like a heap snapshot but contains invalid data (bad token, inconsistent counts, dangling references). */
export class SnapshotCorruptError extends HeapSnapshotFormatError {
  declare readonly code: 'ERR_SNAPSHOT_CORRUPT';
  constructor(path: string, offset: number, detail: string) {
    super('ERR_SNAPSHOT_CORRUPT', path, offset, `heap snapshot is corrupt: ${detail}`);
  }
}

/** The input is not a V8 `.heapsnapshot` at all (not JSON, or JSON without `snapshot.meta`). */
export class NotAHeapSnapshotError extends HeapSnapshotFormatError {
  declare readonly code: 'ERR_NOT_A_HEAP_SNAPSHOT';
  constructor(path: string, offset: number, detail = 'not a V8 heap snapshot') {
    super('ERR_NOT_A_HEAP_SNAPSHOT', path, offset, detail);
  }
}

/** Not enough free space to write a heap snapshot; nothing was written. */
export class InsufficientDiskSpaceError extends HangwatchError {
  declare readonly code: 'ERR_INSUFFICIENT_DISK_SPACE';
  readonly dir: string;
  /** Bytes available to this user on the file system of `dir`. */
  readonly availableBytes: number;
  /** Bytes hangwatch estimated the snapshot needs. */
  readonly requiredBytes: number;
  constructor(dir: string, availableBytes: number, requiredBytes: number) {
    super(
      'ERR_INSUFFICIENT_DISK_SPACE',
      `hangwatch: not enough free disk space in ${dir} for a heap snapshot: ${formatMiB(availableBytes)} available, ~${formatMiB(requiredBytes)} needed`,
    );
    this.dir = dir;
    this.availableBytes = availableBytes;
    this.requiredBytes = requiredBytes;
  }
}

/** Taking or writing a heap snapshot failed (inspector error, I/O error such as ENOSPC mid-write); the partial file was removed. */
export class HeapSnapshotCaptureError extends HangwatchError {
  declare readonly code: 'ERR_HEAP_SNAPSHOT_CAPTURE';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_HEAP_SNAPSHOT_CAPTURE', `hangwatch: ${message}`, options);
  }
}

/** A capture backend was asked for explicitly but cannot be used here (e.g. `heapdump` is not installed). */
export class HeapBackendUnavailableError extends HangwatchError {
  declare readonly code: 'ERR_HEAP_BACKEND_UNAVAILABLE';
  readonly backend: string;
  constructor(backend: string, message: string, options: HangwatchErrorOptions = {}) {
    super(
      'ERR_HEAP_BACKEND_UNAVAILABLE',
      `hangwatch: heap snapshot backend "${backend}" is unavailable: ${message}`,
      options,
    );
    this.backend = backend;
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The snapshot file could not be opened or read (missing, permission denied, I/O error). */
export class HeapSnapshotReadError extends HangwatchError {
  declare readonly code: 'ERR_SNAPSHOT_READ';
  readonly path: string;
  constructor(path: string, options: HangwatchErrorOptions = {}) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super('ERR_SNAPSHOT_READ', `hangwatch: cannot read heap snapshot ${path}: ${reason}`, options);
    this.path = path;
  }
}
