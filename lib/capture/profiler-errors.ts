/** Typed errors of the profiler primitives (CPU profiler, heap sampler), whatever the backend. */
import { HangwatchError, type HangwatchErrorOptions } from '../errors.js';

/** The profiler could not start because another profile on this thread holds it. */
export class ProfilerBusyError extends HangwatchError {
  declare readonly code: 'ERR_PROFILER_BUSY';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_PROFILER_BUSY', message, options);
  }
}

/** The chosen backend (e.g. the optional `v8-profiler-next` addon) is not installed or cannot load. */
export class ProfilerBackendUnavailableError extends HangwatchError {
  declare readonly code: 'ERR_PROFILER_BACKEND_UNAVAILABLE';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_PROFILER_BACKEND_UNAVAILABLE', message, options);
  }
}
