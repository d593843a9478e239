/** Assemble a HangReport from an operation and what was observed. */
import { threadId } from 'node:worker_threads';
import type { StackFrame } from '../capture/stack-frame.js';
import type { HangKind, HangReport } from '../report/hang-report.js';
import { REPORT_SCHEMA_VERSION } from '../report/schema.js';
import { classifyCpuWindow, schedulingContext } from '../loop/thread-cpu.js';
import { pendingOf } from './async-trace.js';
import type { Operation } from './operation.js';
import { applyReportExtras } from './report-extras.js';
import { contextOfOperation } from './resolve-context.js';

export interface Observation {
  kind: HangKind;
  now: number;
  /** When the report was due (deadline or repeat time). */
  dueAt: number;
  mainStack?: StackFrame[] | undefined;
  stackUnavailable?: string | undefined;
  /** How long the watchdog waited for the main thread to reach a point where it could pause. */
  pauseDelayMs?: number | undefined;
}

export function buildHangReport(op: Operation, seen: Observation): HangReport {
  const report: HangReport = {
    schema: 'hangwatch.hang-report',
    schemaVersion: REPORT_SCHEMA_VERSION,
    name: op.owner ? op.owner.hangName() : op.name,
    operationId: op.id,
    kind: seen.kind,
    timeoutMs: op.config.timeoutMs,
    action: op.config.action,
    repeat: op.reports,
    startedAt: new Date(op.startedAt).toISOString(),
    detectedAt: new Date(seen.now).toISOString(),
    elapsedMs: seen.now - op.startedAt,
    lateByMs: Math.max(0, seen.now - seen.dueAt),
    pid: process.pid,
    threadId,
  };
  const context = contextOfOperation(op);
  if (context) report.context = context;
  if (seen.kind === 'blocked') {
    if (seen.mainStack && seen.mainStack.length > 0) {
      report.mainStack = seen.mainStack;
      if (seen.pauseDelayMs !== undefined) report.pauseDelayMs = seen.pauseDelayMs;
    } else report.stackUnavailable = seen.stackUnavailable ?? 'the stack was not captured';
    if (op.cpuWindow) {
      // A loop watch: the loop has not turned since the operation began.
      const stalledMs = seen.now - op.startedAt;
      const verdict = classifyCpuWindow(stalledMs, op.config.timeoutMs, op.cpuWindow.measure(seen.now));
      report.cause = verdict.cause;
      if (verdict.cpuMs !== undefined) report.cpuMs = verdict.cpuMs;
      const scheduling = schedulingContext();
      if (scheduling.loadAverage !== undefined) report.loadAverage = scheduling.loadAverage;
      report.cpus = scheduling.cpus;
    }
  }
  if (op.scope) {
    const { pending, awaitChain } = pendingOf(op.scope, seen.now);
    report.pending = pending;
    report.awaitChain = awaitChain;
  } else if (seen.kind === 'pending') {
    report.hint =
      'pass { asyncTrace: true } to see what the operation is waiting on (pending promises, timers, sockets, with creation stacks)';
  }
  if (op.steps) report.steps = op.steps.summary(seen.now, op.startedAt);
  applyReportExtras(op, report, seen.now);
  op.reports++;
  return report;
}
