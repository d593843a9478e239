/** Typed errors of CPU and allocation profiling. Codes are stable; messages are for humans. */
import { HangwatchError, type HangwatchErrorOptions } from '../errors.js';

export { ProfilerBusyError, ProfilerBackendUnavailableError } from '../capture/errors.js';

/** `stop()` was called on a session that already stopped (or failed). */
export class ProfilerNotRunningError extends HangwatchError {
  declare readonly code: 'ERR_PROFILER_NOT_RUNNING';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_PROFILER_NOT_RUNNING', message, options);
  }
}

/** Data passed in as a CPU profile is not a `.cpuprofile`. */
export class InvalidCpuProfileError extends HangwatchError {
  declare readonly code: 'ERR_INVALID_CPU_PROFILE';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_INVALID_CPU_PROFILE', message, options);
  }
}

/** A function passed to `callers()` / `callees()` is not in the profile (or is ambiguous). */
export class UnknownFunctionError extends HangwatchError {
  declare readonly code: 'ERR_UNKNOWN_FUNCTION';
  constructor(message: string) {
    super('ERR_UNKNOWN_FUNCTION', message);
  }
}
