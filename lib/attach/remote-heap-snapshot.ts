/**
 * A heap snapshot of another process, streamed over its inspector: each
 * `HeapProfiler.addHeapSnapshotChunk` is appended to `<file>.tmp-<pid>` as it arrives, and the
 * file is renamed to `<file>` only once the snapshot is complete — a failed or interrupted
 * snapshot never leaves a half-written file under the final name.
 *
 * Progress (`reportProgress`) is safe here, unlike on a same-thread session: the notifications
 * are sent to another process, not run as JavaScript inside the walk of the heap.
 */
import { open, rename, rm } from 'node:fs/promises';
import type { CdpChannel, CdpParams } from './cdp-channel.js';

export interface RemoteSnapshotProgress {
  phase: 'walk' | 'write';
  /** walk: objects visited of `total`; write: bytes written so far. */
  done: number;
  total: number;
}

export interface RemoteSnapshotOptions {
  onProgress?: (progress: RemoteSnapshotProgress) => void;
  /** Bound on the whole snapshot (default 10 minutes: big heaps take long). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Write a snapshot of the channel's thread to `file`; resolves with its size in bytes. */
export async function takeRemoteHeapSnapshot(channel: CdpChannel, file: string, options: RemoteSnapshotOptions = {}): Promise<number> {
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  let written = 0;
  let failure: Error | undefined;
  // Chunks arrive faster than the disk may take them: chain the writes, in order.
  let writing: Promise<unknown> = Promise.resolve();
  const offChunk = channel.on('HeapProfiler.addHeapSnapshotChunk', (p: CdpParams) => {
    const chunk = Buffer.from(String(p.chunk ?? ''), 'utf8');
    writing = writing.then(async () => {
      if (failure) return;
      try {
        await handle.write(chunk);
        written += chunk.length;
        options.onProgress?.({ phase: 'write', done: written, total: 0 });
      } catch (err) {
        failure = err as Error;
      }
    });
  });
  const offProgress = channel.on('HeapProfiler.reportHeapSnapshotProgress', (p: CdpParams) => {
    options.onProgress?.({ phase: 'walk', done: Number(p.done ?? 0), total: Number(p.total ?? 0) });
  });
  let complete = false;
  try {
    await channel.send('HeapProfiler.enable', {});
    await channel.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    await writing;
    if (failure) throw failure;
    options.signal?.throwIfAborted();
    await handle.sync();
    complete = true;
  } finally {
    offChunk();
    offProgress();
    await handle.close().catch(() => {});
    await channel.sendQuietly('HeapProfiler.disable', {}, 2000);
    if (complete) await rename(temp, file);
    else await rm(temp, { force: true });
  }
  return written;
}
