/**
 * Typed errors of the capture layer: the profiler primitives (CPU profiler, heap sampler), whatever
 * the backend, and the inspector sessions of native-free-fallbacks/. Codes are stable.
 */
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

/** The inspector replied with an error (e.g. `Cannot change sampling interval when profiling`). */
export class InspectorCommandError extends HangwatchError {
  declare readonly code: 'ERR_INSPECTOR_COMMAND_FAILED';
  /** Protocol method, e.g. `Profiler.stop`. */
  readonly method: string;
  constructor(method: string, cause: unknown) {
    super(
      'ERR_INSPECTOR_COMMAND_FAILED',
      `hangwatch: inspector ${method} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.method = method;
  }
}
