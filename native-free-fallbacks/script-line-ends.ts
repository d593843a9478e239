/**
 * Build V8's line-end table of every loaded script before a heap snapshot.
 *
 * A heap snapshot records the line and column of every closure. On V8 before 12 (Node 20), a script
 * whose line-end table was never built answers each of those questions by scanning its source from the
 * start: a process that loaded an 11 MB bundle of 60,000 small functions spends minutes in that scan
 * (measured: 82 s for a 40 MB snapshot, docs/benchmarks.md). Starting the CPU profiler builds the table
 * of every script with compiled code (it logs each compiled function with its line), after which the
 * same snapshot takes seconds. V8 12 (Node 22, 24) builds the table itself, so nothing is done there.
 *
 * Enabling the Debugger domain builds the tables too, but even enabled and disabled at once it changes
 * what V8 does afterwards: object ids of later snapshots were reused for other objects (a leak diff
 * miscounted), so the profiler is used. It is started and stopped in one synchronous step on hangwatch's
 * own in-thread session, collecting no sample. The tables stay with the scripts. Doing it before every
 * snapshot covers scripts loaded since the last one; for scripts whose table exists it costs milliseconds.
 */
import { loadInspector, snapshotSession } from './inspector-heap-snapshot.js';

/** Whether this V8 needs the tables built before a heap snapshot (V8 < 12, i.e. Node 20). */
export const snapshotNeedsScriptLineEnds = Number(process.versions.v8.split('.')[0]) < 12;

/**
 * Build the line-end tables if this V8 needs them; returns whether it did. Never throws: without the
 * inspector (or if it refuses) the snapshot is slower, not wrong.
 */
export function buildScriptLineEnds(): boolean {
  if (!snapshotNeedsScriptLineEnds) return false;
  const inspector = loadInspector();
  if (!inspector) return false;
  try {
    const session = snapshotSession(inspector);
    let started = false;
    session.post('Profiler.enable', () => undefined);
    session.post('Profiler.start', (error) => {
      started = !error;
    });
    session.post('Profiler.stop', () => undefined);
    session.post('Profiler.disable', () => undefined);
    return started;
  } catch {
    return false;
  }
}
