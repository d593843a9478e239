/** Text rendering of a BlockEvent: a traceback of the blocking stack, then where the time went. */
import { formatFrame } from '../capture/stack-frame.js';
import type { BlockEvent } from './block-event.js';
import { describeBlockCause } from '../loop/thread-cpu.js';
import { nativeCallNote, renderTraceback } from './render-hang-text.js';
import { requiredObject } from '../validate.js';

export function renderBlockEventText(event: BlockEvent): string {
  requiredObject('event', event, 'a block event');
  const out: string[] = [];
  out.push(
    `hangwatch: the event loop was blocked for ${Math.round(event.durationMs)} ms (threshold ${event.thresholdMs} ms), from ${event.startedAt}`,
  );
  const who = !event.threadId
    ? 'the main thread'
    : `thread ${event.threadId}${event.threadName ? ` (${JSON.stringify(event.threadName)})` : ''}`;
  const cause = describeBlockCause(who, event.durationMs, event);
  if (cause) out.push(`${cause[0]?.toUpperCase()}${cause.slice(1)}.`);
  if (event.stack && event.stack.length > 0) {
    out.push('Stack while blocked (most recent call last):');
    out.push(renderTraceback(event.stack));
    const note = nativeCallNote(event.samples[0]?.pauseDelayMs);
    if (note) out.push(note);
    if (event.samples.length > 1) {
      out.push(`Where the time went (${event.samples.length} samples):`);
      for (const h of event.hotFrames.slice(0, 8)) {
        out.push(`  ${`${Math.round(h.ratio * 100)}%`.padStart(5)}  ${formatFrame(h.frame)}`);
      }
    }
  } else {
    const why = event.stackError ?? 'not captured';
    out.push(
      event.cause === 'starved'
        ? `  (no stack: the thread was not running for most of the block — starved — so there was little JavaScript to interrupt; ${why})`
        : `  (no stack: ${why})`,
    );
  }
  return `${out.join('\n')}\n`;
}
