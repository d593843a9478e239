/**
 * Facts other capabilities add to a hang report (the pools an operation waits on): they
 * register here when first used, so that building a report does not depend on them.
 */
import type { HangReport } from '../report/hang-report.js';
import type { Operation } from './operation.js';

export type ReportExtra = (op: Operation, report: HangReport, now: number) => void;

const extras: ReportExtra[] = [];

export function addReportExtra(extra: ReportExtra): void {
  if (!extras.includes(extra)) extras.push(extra);
}

/** Let every registered extra add its facts; a failing one is skipped (a report is never lost to it). */
export function applyReportExtras(op: Operation, report: HangReport, now: number): void {
  for (const extra of extras) {
    try {
      extra(op, report, now);
    } catch {
      // the report goes out without these facts
    }
  }
}
