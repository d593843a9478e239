/** Typed errors of hang detection. Codes are stable; messages are for humans. */
import { HangwatchError } from '../errors.js';
import type { HangReport } from '../report/hang-report.js';

/** The operation did not finish by its deadline (actions `reject` and `abort`). */
export class HangError extends HangwatchError {
  declare readonly code: 'ERR_HANG_TIMEOUT';
  readonly report: HangReport;
  constructor(report: HangReport) {
    super(
      'ERR_HANG_TIMEOUT',
      `operation "${report.name}" did not finish within ${report.timeoutMs} ms (${report.kind === 'blocked' ? 'event loop blocked' : 'still pending'})`,
    );
    this.report = report;
  }
}
