/**
 * Build V8's line-end table of every loaded script before a heap snapshot.
 *
 * A heap snapshot records the line and column of every closure. On V8 before 12 (Node 20), a script
 * whose line-end table was never built answers each of those questions by scanning its source from the
 * start: a process that loaded an 11 MB bundle of 60,000 small functions spends minutes in that scan
 * (measured: 82 s for a 40 MB snapshot, docs/benchmarks.md). Enabling the inspector's Debugger domain
 * builds the table of every script (it reports each script's end line), after which the same snapshot
 * takes seconds. V8 12 (Node 22, 24) builds the table itself, so nothing is done there.
 *
 * The domain is enabled and disabled again in one synchronous step on hangwatch's own in-thread session:
 * no JavaScript of the program runs while it is on (a `debugger` statement cannot pause the thread), and
 * a program never runs with the debugger enabled on hangwatch's account. The tables stay with the
 * scripts. Doing it before every snapshot (not once per process) covers scripts loaded since the last
 * one; for scripts whose table already exists it costs milliseconds.
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
    let enabled = false;
    session.post('Debugger.enable', (error) => {
      enabled = !error;
    });
    session.post('Debugger.disable', () => undefined);
    return enabled;
  } catch {
    return false;
  }
}
