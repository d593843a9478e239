/**
 * Heap snapshots with Node built-ins only.
 *
 * The inspector writer opens a session on this thread and asks `HeapProfiler.takeHeapSnapshot` with
 * `reportProgress`; V8 delivers `addHeapSnapshotChunk` events synchronously during the call, and each chunk
 * is written to the file at once, so the snapshot never sits in memory as one string.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Session } from 'node:inspector';
import { writeHeapSnapshot as v8WriteHeapSnapshot } from 'node:v8';
import type { HeapSnapshotWriter } from '../lib/capture/heap-snapshot.js';

type InspectorModule = typeof import('node:inspector');

let inspectorModule: InspectorModule | null | undefined;

function loadInspector(): InspectorModule | null {
  if (inspectorModule === undefined) {
    try {
      // node:inspector is missing from builds configured --without-inspector; require keeps that recoverable.
      inspectorModule = createRequire(`${process.cwd()}/`)('node:inspector') as InspectorModule;
    } catch {
      inspectorModule = null;
    }
  }
  return inspectorModule;
}

/**
 * One session for the life of the process. Disconnecting a session disables its HeapProfiler agent, and
 * V8 then clears the heap object id map: the next snapshot would number every object afresh and no two
 * snapshots could be compared. A connected session with no domain enabled costs nothing and does not keep
 * the event loop alive.
 */
let sharedSession: Session | null = null;

function session(inspector: InspectorModule): Session {
  if (!sharedSession) {
    const s = new inspector.Session();
    s.connect();
    sharedSession = s;
  }
  return sharedSession;
}

export function inspectorHeapSnapshotWriter(): HeapSnapshotWriter | null {
  const inspector = loadInspector();
  if (!inspector) return null;
  return {
    name: 'inspector',
    write(file, onProgress) {
      return new Promise<void>((resolve, reject) => {
        let s: Session | undefined;
        let fd = -1;
        let bytesWritten = 0;
        let writeError: unknown;
        const onChunk = (message: { params: { chunk: string } }): void => {
          if (writeError) return;
          try {
            const chunk = Buffer.from(message.params.chunk, 'utf8');
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            bytesWritten += chunk.length;
          } catch (error) {
            writeError = error;
          }
        };
        const onCaptureProgress = (message: { params: { done: number; total: number } }): void => {
          try {
            onProgress?.({ phase: 'capture', done: message.params.done, total: message.params.total, bytesWritten });
          } catch {
            // a throwing progress callback must not break the capture
          }
        };
        const finish = (error?: unknown): void => {
          s?.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
          s?.off('HeapProfiler.reportHeapSnapshotProgress', onCaptureProgress);
          if (fd >= 0) {
            try {
              closeSync(fd);
            } catch (closeError) {
              error ??= closeError;
            }
          }
          if (error) reject(error);
          else resolve();
        };
        try {
          fd = openSync(file, 'wx');
          s = session(inspector);
          s.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
          if (onProgress) s.on('HeapProfiler.reportHeapSnapshotProgress', onCaptureProgress);
          s.post('HeapProfiler.takeHeapSnapshot', { reportProgress: Boolean(onProgress) }, (error) => {
            if (!error && !writeError && onProgress) {
              try {
                onProgress({ phase: 'write', done: bytesWritten, total: bytesWritten, bytesWritten });
              } catch {
                // ignored, as above
              }
            }
            finish(error ?? writeError);
          });
        } catch (error) {
          finish(error);
        }
      });
    },
  };
}

export function v8HeapSnapshotWriter(): HeapSnapshotWriter {
  return {
    name: 'v8',
    async write(file, onProgress) {
      v8WriteHeapSnapshot(file);
      try {
        onProgress?.({ phase: 'write', done: 1, total: 1, bytesWritten: 0 });
      } catch {
        // ignored
      }
    },
  };
}
