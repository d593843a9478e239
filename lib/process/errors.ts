/**
 * Typed errors of process sampling and the doctor. Codes are stable.
 */
import { HangwatchError, type HangwatchErrorOptions } from '../errors.js';

/** No process with this pid exists (or it exited while being sampled). */
export class ProcessNotFoundError extends HangwatchError {
  declare readonly code: 'ERR_PROCESS_NOT_FOUND';
  readonly pid: number;
  constructor(pid: number, options: HangwatchErrorOptions = {}) {
    super('ERR_PROCESS_NOT_FOUND', `hangwatch: no process with pid ${pid}`, options);
    this.pid = pid;
  }
}

/** Another process cannot be sampled here: neither `/proc` nor the `pidusage` backend works. */
export class ProcessSamplingUnsupportedError extends HangwatchError {
  declare readonly code: 'ERR_PROCESS_SAMPLING_UNSUPPORTED';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_PROCESS_SAMPLING_UNSUPPORTED', message, options);
  }
}

/** The program the doctor or `hangwatch run` was asked to run could not be started. */
export class ChildStartError extends HangwatchError {
  declare readonly code: 'ERR_CHILD_START';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_CHILD_START', message, options);
  }
}
