/**
 * The memory the main thread and the watchdog worker share. The main thread writes plain
 * numbers (cheap, no message per operation); the worker reads them to decide, on its own clock,
 * whether the main thread is blocked. All times are epoch milliseconds (`Date.now()`), which both
 * threads read from the same clock.
 */

/**
 * A deadline missed by less than this is not a hang: timers are never exact. The hang runtime
 * does not report an operation that finished this little late, and the watchdog waits this long
 * past a deadline before it counts the thread as blocked.
 */
export const DEADLINE_GRACE_MS = 20;

/**
 * Where each value lives. The one definition of the layout: the main thread imports the names
 * below, the watchdog worker (which cannot import) receives this object in its workerData.
 */
export const SHARED_LAYOUT = {
  /** Float64 slots. */
  F_NEXT_DEADLINE: 0, // earliest hang deadline the main thread is waiting for, 0 = none
  F_DEADLINES_DONE: 1, // when the main thread last processed deadlines (timer ran or hook ran)
  F_HEARTBEAT: 2, // last tick of the block monitor's heartbeat, 0 = monitor off
  F_BLOCK_KEY: 3, // heartbeat value of the block the worker is sampling now (0 = none)
  F64_SLOTS: 8,
  /** Int32 slots, after the Float64 ones. */
  I_WAKE: 0, // bumped (and notified) whenever the worker must re-read the state
  I_BLOCK_THRESHOLD: 1, // block monitor threshold in ms, 0 = monitor off
  I_SAMPLE_INTERVAL: 2, // ms between stack samples while one block lasts
  I_DEADLINE_GRACE: 3, // DEADLINE_GRACE_MS, for the worker
  I_EXITING: 4, // set (and notified) by the main thread when the process exits
  I_EXIT_ACK: 5, // set (and notified) by the worker once it holds no inspector session
  I32_SLOTS: 8,
} as const;

export type SharedLayout = typeof SHARED_LAYOUT;

export const {
  F_NEXT_DEADLINE,
  F_DEADLINES_DONE,
  F_HEARTBEAT,
  F_BLOCK_KEY,
  F64_SLOTS,
  I_WAKE,
  I_BLOCK_THRESHOLD,
  I_SAMPLE_INTERVAL,
  I_DEADLINE_GRACE,
  I_EXITING,
  I_EXIT_ACK,
  I32_SLOTS,
} = SHARED_LAYOUT;

export interface SharedState {
  buffer: SharedArrayBuffer;
  f64: Float64Array;
  i32: Int32Array;
}

export function createSharedState(): SharedState {
  const buffer = new SharedArrayBuffer(F64_SLOTS * 8 + I32_SLOTS * 4);
  return viewSharedState(buffer, SHARED_LAYOUT);
}

/**
 * The typed views of a shared buffer. Self-contained (it uses only its arguments): the watchdog
 * worker runs a copy of it.
 */
export function viewSharedState(buffer: SharedArrayBuffer, layout: SharedLayout): SharedState {
  return {
    buffer,
    f64: new Float64Array(buffer, 0, layout.F64_SLOTS),
    i32: new Int32Array(buffer, layout.F64_SLOTS * 8, layout.I32_SLOTS),
  };
}

/** Tell the worker to re-read the shared state now. */
export function wakeWorker(state: SharedState): void {
  Atomics.add(state.i32, I_WAKE, 1);
  Atomics.notify(state.i32, I_WAKE);
}
