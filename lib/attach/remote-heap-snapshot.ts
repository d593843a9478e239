/**
 * A heap snapshot of another process, streamed over its inspector: each
 * `HeapProfiler.addHeapSnapshotChunk` is appended to a temporary file next to `file` as it arrives
 * (lib/atomic-file.ts), and the file gets its final name only once the snapshot is complete — a
 * failed or interrupted snapshot never leaves a half-written file under the final name.
 *
 * Before the capture the target's CPU profiler is started and stopped, which builds the line-end
 * table of every script it loaded: without it, a Node 20 target with a big bundle loaded spends
 * minutes finding each function's line (native-free-fallbacks/script-line-ends.ts). The commands are
 * sent back to back; on Node 22 and 24 they cost a few ms.
 *
 * Progress (`reportProgress`) is safe here, unlike on a same-thread session: the notifications
 * are sent to another process, not run as JavaScript inside the walk of the heap.
 */
import { open } from 'node:fs/promises';
import { commitTemporaryFile, discardTemporaryFile, temporaryPathFor } from '../atomic-file.js';
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
export async function takeRemoteHeapSnapshot(
  channel: CdpChannel,
  file: string,
  options: RemoteSnapshotOptions = {},
): Promise<number> {
  const temp = temporaryPathFor(file);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(temp, 'w');
  } catch (error) {
    discardTemporaryFile(temp);
    throw error;
  }
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
    // Line-end tables first (see above); a target that refuses only makes the snapshot slower.
    await Promise.all(
      ['Profiler.enable', 'Profiler.start', 'Profiler.stop', 'Profiler.disable'].map((method) =>
        channel.sendQuietly(method, {}),
      ),
    );
    await channel.send(
      'HeapProfiler.takeHeapSnapshot',
      { reportProgress: true },
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
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
    if (complete) commitTemporaryFile(temp, file);
    else discardTemporaryFile(temp);
  }
  return written;
}
