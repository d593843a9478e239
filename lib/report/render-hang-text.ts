/**
 * Text rendering of a HangReport that reads like a Python traceback: "most recent call last",
 * `File "path", line N, in fn`, then the source line.
 */
import { isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import { describeBlockCause } from '../loop/thread-cpu.js';
import type { HangReport } from './hang-report.js';
import { renderPoolWaitsText } from './render-pool-text.js';
import { renderStepsText } from './render-steps-text.js';
import { requiredArray, requiredObject } from '../validate.js';

export function renderTraceback(frames: StackFrame[], indent = '  '): string {
  requiredArray('frames', frames, 'an array of stack frames');
  // Frames arrive most recent first; a traceback prints them most recent last.
  const lines: string[] = [];
  let internal = 0;
  const flushInternal = (): void => {
    if (internal > 0) lines.push(`${indent}[${internal} Node.js internal frame${internal > 1 ? 's' : ''}]`);
    internal = 0;
  };
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i] as StackFrame;
    // Runs of Node's own frames say little; the innermost frame is always shown.
    if (i > 0 && isNodeInternal(f)) {
      internal++;
      continue;
    }
    flushInternal();
    const where = f.line > 0 ? `File "${f.file}", line ${f.line}, column ${f.column}` : `File "${f.file}"`;
    lines.push(`${indent}${where}, in ${f.async ? 'async ' : ''}${f.functionName}`);
    if (f.sourceLine) lines.push(`${indent}  ${f.sourceLine}`);
  }
  flushInternal();
  return lines.join('\n');
}

/** Pauses slower than this mean the main thread was inside a native call. */
export const NATIVE_PAUSE_DELAY_MS = 100;

export function nativeCallNote(pauseDelayMs: number | undefined, thread = 'main thread'): string | undefined {
  if (pauseDelayMs === undefined || pauseDelayMs < NATIVE_PAUSE_DELAY_MS) return undefined;
  return (
    `  (the ${thread} was inside native code for ~${Math.round(pauseDelayMs)} ms that V8 cannot interrupt — e.g. a big JSON.parse ` +
    'or a sync native call; the stack above is where JavaScript made its next call after it returned, so the native call was made ' +
    'by one of these frames or by code that had just returned to them)'
  );
}

export function renderHangReportText(report: HangReport): string {
  requiredObject('report', report, 'a hang report');
  const out: string[] = [];
  const again = report.repeat > 0 ? ` (still hung, report #${report.repeat + 1})` : '';
  out.push(
    `hangwatch: operation "${report.name}" (#${report.operationId}) has not finished after ${Math.round(report.elapsedMs)} ms ` +
      `(timeout ${report.timeoutMs} ms, action: ${report.action})${again}`,
  );
  if (report.context) {
    out.push(
      `Context: ${Object.entries(report.context)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}`,
    );
  }
  if (report.steps) out.push(...renderStepsText(report.steps));
  if (report.kind === 'blocked') {
    const cause = report.cause
      ? describeBlockCause('the main thread', report.elapsedMs, { ...report, cause: report.cause })
      : undefined;
    if (report.cause === 'starved' && cause) out.push(`The event loop has not turned: ${cause}.`);
    else
      out.push(
        `The event loop is blocked: the main thread is running synchronous JavaScript.${cause ? ` (${cause[0]?.toUpperCase()}${cause.slice(1)}.)` : ''}`,
      );
    if (report.mainStack && report.mainStack.length > 0) {
      out.push('Main thread stack while blocked (most recent call last):');
      out.push(renderTraceback(report.mainStack));
      const note = nativeCallNote(report.pauseDelayMs);
      if (note) out.push(note);
    } else {
      out.push(`  (no stack: ${report.stackUnavailable ?? 'not captured'})`);
    }
  } else {
    out.push('The event loop is free: the operation is waiting on something that never completes.');
  }
  if (report.pools) out.push(...renderPoolWaitsText(report.pools));
  if (report.pending && report.pending.length > 0) {
    const [leaf, ...rest] = report.pending;
    if (leaf) {
      out.push(
        `Waiting on: ${leaf.type}${leaf.count > 1 ? ` ×${leaf.count}` : ''}, created ${Math.round(leaf.ageMs)} ms ago at (most recent call last):`,
      );
      out.push(renderTraceback(leaf.stack));
    }
    if (rest.length > 0) {
      out.push(`Other pending resources of this operation (${rest.reduce((n, r) => n + r.count, 0)}):`);
      for (const r of rest.slice(0, 8)) {
        const top = r.stack[0];
        const at = top ? ` at ${top.functionName} (${top.file}:${top.line})` : '';
        out.push(`  ${r.type}${r.count > 1 ? ` ×${r.count}` : ''}${at}`);
      }
      if (rest.length > 8) out.push(`  … and ${rest.length - 8} more kinds`);
    }
  } else if (report.kind === 'pending' && report.pending) {
    out.push('  (no pending resource was created inside the operation: it awaits something created outside it)');
  }
  if (report.hint) out.push(`Hint: ${report.hint}`);
  return `${out.join('\n')}\n`;
}
