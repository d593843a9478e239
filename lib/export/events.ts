/**
 * The event shapes the exporters accept, as structural interfaces so that exporters depend on no
 * capability's internals: a `HangReport` (lib/report) and an event-loop block event. The block
 * event is the `BlockEvent` of lib/report/block-event.ts (what `monitorEventLoop` emits); only the
 * fields read here are required, so exporters also take block events from other sources.
 */
import type { StackFrame } from '../capture/stack-frame.js';

export interface BlockEventLike {
  schema?: 'hangwatch.block-event';
  id?: number | string;
  /** ISO time or ms since the epoch. */
  startedAt?: string | number;
  durationMs: number;
  /** Main-thread stack while blocked, most recent call first. */
  stack?: StackFrame[];
  stackError?: string;
  /** `blocked` (the thread was on CPU), `starved` (it was not running) or `unknown`. */
  cause?: string;
  /** CPU time the thread used during the block. */
  cpuMs?: number;
  loadAverage?: number;
}

/** `file:line` of the first frame that is not Node's own, for one-line summaries. */
export function topUserFrame(frames: readonly StackFrame[] | undefined): StackFrame | undefined {
  if (!frames) return undefined;
  return (
    frames.find((f) => !f.file.startsWith('node:') && f.file !== '' && !f.file.includes('/node_modules/')) ?? frames[0]
  );
}

export function frameText(f: StackFrame | undefined): string | undefined {
  return f ? `${f.functionName} (${f.file}:${f.line}:${f.column})` : undefined;
}
