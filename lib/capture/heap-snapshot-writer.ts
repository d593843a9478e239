/**
 * The heap snapshot writer interface, apart from the choice of backend in heap-snapshot.ts so
 * that backends (native-free-fallbacks/inspector-heap-snapshot.ts) can import it without a cycle.
 */

export interface CaptureProgress {
  /** `write`: after each chunk written (inspector backend); `done`: once, when the file is complete. */
  phase: 'write' | 'done';
  bytesWritten: number;
}

export interface HeapSnapshotWriter {
  readonly name: HeapSnapshotBackend;
  /** Write a snapshot of this isolate to `file` (a temporary name: the caller renames it when complete). */
  write(file: string, onProgress?: (p: CaptureProgress) => void): Promise<void>;
}

export type HeapSnapshotBackend = 'inspector' | 'v8' | 'heapdump';

/** Why a backend that was asked for cannot be used. */
export interface UnavailableBackend {
  unavailable: HeapSnapshotBackend;
  reason: string;
  cause?: unknown;
}
