/** Typed errors of allocation tracking. */
import { HangwatchError } from '../errors.js';

export { ProfilerBusyError } from '../capture/errors.js';

/** `takeAllocationSnapshot()` was called while allocation tracking is off (tracemalloc raises RuntimeError). */
export class AllocationTrackingNotStartedError extends HangwatchError {
  declare readonly code: 'ERR_ALLOCATION_TRACKING_NOT_STARTED';
  constructor(message = 'hangwatch: allocation tracking is not started; call startAllocationTracking() first') {
    super('ERR_ALLOCATION_TRACKING_NOT_STARTED', message);
  }
}

/** Data given to `AllocationSnapshot.fromJSON()` / `load()` is not a saved allocation snapshot. */
export class InvalidAllocationSnapshotError extends HangwatchError {
  declare readonly code: 'ERR_INVALID_ALLOCATION_SNAPSHOT';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_INVALID_ALLOCATION_SNAPSHOT', message, options);
  }
}
