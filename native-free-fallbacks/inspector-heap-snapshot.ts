/**
 * Heap snapshots with Node built-ins only.
 *
 * The inspector writer asks `HeapProfiler.takeHeapSnapshot` over a session on this thread; V8 delivers
 * `addHeapSnapshotChunk` events synchronously during the call, and each chunk is written to the file at
 * once, so the snapshot never sits in memory as one string. Progress is reported as bytes written.
 *
 * `reportProgress: true` is never sent: on a same-thread session V8 emits the progress notifications while
 * it walks the stack with JavaScript forbidden, and re-entering JS there crashes the process (SIGSEGV,
 * nodejs/node#44634, still open; reproduced on Node 20.20). Chunks come later, during serialisation, where
 * running JS is safe.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Session } from 'node:inspector';
import { writeHeapSnapshot as v8WriteHeapSnapshot } from 'node:v8';
import type { CaptureProgress, HeapSnapshotWriter } from '../lib/capture/heap-snapshot-writer.js';

type InspectorModule = typeof import('node:inspector');

// The fs functions as they are when this module loads: traceSyncIo() (HANGWATCH_SYNC_IO, on under
// `hangwatch doctor`) later wraps the module's functions and the ESM named exports, and a snapshot
// writes hundreds of chunks; hangwatch's own writes are not the program's I/O and need no tracing.
const { closeSync, openSync, statSync, writeSync } = fs;

let inspectorModule: InspectorModule | null | undefined;

export function loadInspector(): InspectorModule | null {
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

export function snapshotSession(inspector: InspectorModule): Session {
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
        const report = (phase: 'write' | 'done'): void => {
          try {
            onProgress?.({ phase, bytesWritten });
          } catch {
            // a throwing progress callback must not break the capture
          }
        };
        const onChunk = (message: { params: { chunk: string } }): void => {
          if (writeError) return;
          try {
            const chunk = Buffer.from(message.params.chunk, 'utf8');
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            bytesWritten += chunk.length;
          } catch (error) {
            writeError = error;
            return;
          }
          report('write');
        };
        const finish = (error?: unknown): void => {
          s?.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
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
          fd = openSync(file, 'w');
          s = snapshotSession(inspector);
          s.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
          s.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (error) => {
            if (!error && !writeError) report('done');
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
      reportDone(file, onProgress);
    },
  };
}

/** The final progress event of the backends that cannot report as they go. */
export function reportDone(file: string, onProgress: ((p: CaptureProgress) => void) | undefined): void {
  if (!onProgress) return;
  try {
    onProgress({ phase: 'done', bytesWritten: statSync(file).size });
  } catch {
    // a throwing progress callback (or a vanished file) must not fail the capture
  }
}
