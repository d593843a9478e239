/**
 * Typed errors of the diagnostics handler. Codes are stable; messages are for humans (and are the
 * `error` of the JSON answer).
 */
import { HangwatchError } from '../errors.js';

/** A request the handler refuses after it was let in: the HTTP status to answer with and why. */
export class DiagnosticsRequestError extends HangwatchError {
  declare readonly code: 'ERR_DIAGNOSTICS_BAD_REQUEST' | 'ERR_DIAGNOSTICS_TOO_LARGE';
  readonly status: 400 | 413;
  constructor(code: DiagnosticsRequestError['code'], status: DiagnosticsRequestError['status'], message: string) {
    super(code, message);
    this.status = status;
  }
}

/** A query parameter is out of range or unknown (`seconds`, `format`): 400. */
export class DiagnosticsBadRequestError extends DiagnosticsRequestError {
  declare readonly code: 'ERR_DIAGNOSTICS_BAD_REQUEST';
  declare readonly status: 400;
  constructor(message: string) {
    super('ERR_DIAGNOSTICS_BAD_REQUEST', 400, message);
  }
}

/** The heap, or the snapshot written of it, is over `maxHeapSnapshotBytes`: 413. */
export class DiagnosticsTooLargeError extends DiagnosticsRequestError {
  declare readonly code: 'ERR_DIAGNOSTICS_TOO_LARGE';
  declare readonly status: 413;
  constructor(message: string) {
    super('ERR_DIAGNOSTICS_TOO_LARGE', 413, message);
  }
}
