/**
 * Heap snapshot capture: the choice of backend (the interface is in heap-snapshot-writer.ts).
 *
 * - `inspector` (default): `HeapProfiler.takeHeapSnapshot` over an in-process inspector session, chunks
 *   streamed to the file as V8 produces them, bytes written reported (native-free-fallbacks/inspector-heap-snapshot.ts).
 * - `v8`: `v8.writeHeapSnapshot`, no progress; used by `auto` when the inspector is not available.
 * - `heapdump`: the optional native addon, used only when chosen and installed.
 */
import { performance } from 'node:perf_hooks';
import { recordSelfPause } from './self-pause.js';
import {
  inspectorHeapSnapshotWriter,
  reportDone,
  v8HeapSnapshotWriter,
} from '../../native-free-fallbacks/inspector-heap-snapshot.js';
import type { HeapSnapshotBackend, HeapSnapshotWriter, UnavailableBackend } from './heap-snapshot-writer.js';

export type {
  CaptureProgress,
  HeapSnapshotBackend,
  HeapSnapshotWriter,
  UnavailableBackend,
} from './heap-snapshot-writer.js';

interface HeapdumpModule {
  writeSnapshot(file: string, cb: (err: Error | null, filename?: string) => void): void;
}

export async function chooseHeapSnapshotWriter(
  backend: HeapSnapshotBackend | 'auto',
): Promise<HeapSnapshotWriter | UnavailableBackend> {
  const chosen = await chooseBackend(backend);
  return 'unavailable' in chosen ? chosen : measuredWriter(chosen);
}

/**
 * The writer, its capture recorded as hangwatch's own pause (lib/capture/self-pause.ts): from the
 * call until the file is complete. On Node 20 and 24 V8 collects garbage, walks the heap and
 * serialises it inside the call; on Node 22 the inspector runs the command in a later task, so the
 * synchronous part alone would miss the pause and the doctor would blame the program for it.
 */
function measuredWriter(writer: HeapSnapshotWriter): HeapSnapshotWriter {
  return {
    name: writer.name,
    async write(file, onProgress) {
      const startedAt = performance.now();
      try {
        await writer.write(file, onProgress);
      } finally {
        recordSelfPause({
          reason: 'heap-snapshot',
          startedAtMs: performance.timeOrigin + startedAt,
          durationMs: performance.now() - startedAt,
        });
      }
    },
  };
}

async function chooseBackend(backend: HeapSnapshotBackend | 'auto'): Promise<HeapSnapshotWriter | UnavailableBackend> {
  switch (backend) {
    case 'v8':
      return v8HeapSnapshotWriter();
    case 'inspector':
      return (
        inspectorHeapSnapshotWriter() ?? {
          unavailable: 'inspector',
          reason: 'node:inspector is not available in this Node build',
        }
      );
    case 'heapdump':
      return loadHeapdump();
    default:
      return inspectorHeapSnapshotWriter() ?? v8HeapSnapshotWriter();
  }
}

async function loadHeapdump(): Promise<HeapSnapshotWriter | UnavailableBackend> {
  try {
    const mod = (await import('heapdump' as string)) as HeapdumpModule & { default?: HeapdumpModule };
    const api = typeof mod.writeSnapshot === 'function' ? mod : mod.default;
    if (!api || typeof api.writeSnapshot !== 'function') throw new Error('module has no writeSnapshot()');
    return heapdumpWriter(api);
  } catch (error) {
    return {
      unavailable: 'heapdump',
      reason: 'the optional "heapdump" package is not installed or failed to load',
      cause: error,
    };
  }
}

function heapdumpWriter(api: HeapdumpModule): HeapSnapshotWriter {
  return {
    name: 'heapdump',
    write(file, onProgress) {
      return new Promise<void>((resolve, reject) => {
        api.writeSnapshot(file, (err) => {
          if (err) reject(err);
          else {
            reportDone(file, onProgress);
            resolve();
          }
        });
      });
    },
  };
}
