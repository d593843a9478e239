/**
 * Entry point `hangwatch/log`. Hang and block reports as one JSON log line each, in the shape pino
 * and most log pipelines expect (`level` as a number, `time` in ms, `msg`, flat fields), so they
 * can be searched by route, request id or the line they wait on.
 *
 * ```ts
 * logger.warn(hangLogFields(report), hangLogMessage(report));          // with pino
 * withHangDetection(fn, { output: jsonLogOutput() });                  // or straight to stdout
 * ```
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { StackFrame } from '../capture/stack-frame.js';
import { InvalidOptionError } from '../errors.js';
import type { HangReport } from '../report/hang-report.js';
import { frameText, topUserFrame, type BlockEventLike } from './events.js';
import { requiredObject } from '../validate.js';

export type { BlockEventLike } from './events.js';

const MAX_FRAMES = 12;

function frames(list: readonly StackFrame[] | undefined): string[] | undefined {
  return list?.slice(0, MAX_FRAMES).map((f) => frameText(f) as string);
}

export function hangLogMessage(report: HangReport): string {
  requiredObject('report', report, 'a hang report');
  return `hang: ${report.name} has not finished after ${Math.round(report.elapsedMs)} ms (${report.kind})`;
}

/** Flat fields of a hang report (no `level`/`time`/`msg`: the logger adds them). */
export function hangLogFields(report: HangReport): Record<string, unknown> {
  requiredObject('report', report, 'a hang report');
  const fields: Record<string, unknown> = {
    ...report.context,
    event: 'hangwatch.hang',
    kind: report.kind,
    name: report.name,
    operationId: report.operationId,
    timeoutMs: report.timeoutMs,
    elapsedMs: Math.round(report.elapsedMs),
    repeat: report.repeat,
  };
  if (report.kind === 'blocked') {
    const top = topUserFrame(report.mainStack);
    if (top) fields.blockedAt = frameText(top);
    fields.stack = frames(report.mainStack);
    if (report.stackUnavailable) fields.stackUnavailable = report.stackUnavailable;
  }
  const leaf = report.pending?.[0];
  if (leaf) {
    const user = leaf.stack.filter((f) => !f.file.includes('/node_modules/'));
    const at = topUserFrame(user.length > 0 ? user : leaf.stack);
    fields.waitingOn = leaf.type;
    if (at) {
      fields.waitingAt = frameText(at);
      if (at.sourceLine) fields.waitingSource = at.sourceLine.trim();
    }
    fields.waitingStack = frames(leaf.stack);
    fields.pendingCount = report.pending?.reduce((n, p) => n + p.count, 0);
  }
  if (report.hint) fields.hint = report.hint;
  return fields;
}

/** Flat fields of an event-loop block event. */
export function blockLogFields(event: BlockEventLike): Record<string, unknown> {
  requiredObject('event', event, 'a block event');
  const top = topUserFrame(event.stack);
  const fields: Record<string, unknown> = { event: 'hangwatch.block', durationMs: Math.round(event.durationMs) };
  if (event.id !== undefined) fields.blockId = event.id;
  if (event.startedAt !== undefined) fields.startedAt = event.startedAt;
  if (top) fields.blockedAt = frameText(top);
  if (event.stack) fields.stack = frames(event.stack);
  if (event.stackError) fields.stackError = event.stackError;
  if (event.cause) fields.cause = event.cause;
  if (event.cpuMs !== undefined) fields.cpuMs = event.cpuMs;
  if (event.loadAverage !== undefined) fields.loadAverage = event.loadAverage;
  return fields;
}

const HOST = hostname();

/** One complete pino-compatible JSON line (with `level` 40 = warn, `time`, `pid`, `hostname`, `msg`), newline-terminated. */
export function formatHangLogLine(report: HangReport): string {
  requiredObject('report', report, 'a hang report');
  return `${JSON.stringify({ level: 40, time: Date.parse(report.detectedAt) || Date.now(), pid: report.pid, hostname: HOST, ...hangLogFields(report), msg: hangLogMessage(report) })}\n`;
}

export function formatBlockLogLine(event: BlockEventLike): string {
  requiredObject('event', event, 'a block event');
  return `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, hostname: HOST, ...blockLogFields(event), msg: `event loop blocked for ${Math.round(event.durationMs)} ms` })}\n`;
}

/**
 * An `output` for `withHangDetection` / the middleware that writes `formatHangLogLine` lines
 * synchronously to a file descriptor (default 1, stdout) — next to the app's own pino lines.
 */
export function jsonLogOutput(fd = 1): (text: string, report: unknown) => void {
  if (!Number.isInteger(fd) || fd < 0) throw new InvalidOptionError('fd', 'a file descriptor number', fd);
  return (_text, report) => {
    writeSync(fd, formatHangLogLine(report as HangReport));
  };
}
