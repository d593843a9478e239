/**
 * Text of `hangwatch dump`: per thread, the traceback hangwatch reports use (most recent call
 * last, source lines), or what an idle event loop waits on.
 */
import type { ThreadStack } from '../attach/thread-stack.js';
import { nativeCallNote, renderTraceback } from './render-hang-text.js';

export function renderThreadStacks(pid: number, threads: ThreadStack[]): string {
  const out: string[] = [];
  for (const t of threads) {
    if (out.length > 0) out.push('');
    if (t.state === 'idle') {
      out.push(`Process ${pid}, ${t.thread}: idle — the event loop is waiting, no JavaScript is running.`);
      out.push(waitingOn(t.activeResources ?? {}));
      continue;
    }
    const how =
      t.method === 'interrupt' ? ', read while it runs a regular expression or other code that cannot pause' : '';
    out.push(`Process ${pid}, ${t.thread}: running JavaScript${how} (most recent call last):`);
    out.push(t.frames.length > 0 ? renderTraceback(t.frames) : '  (no frames)');
    const note = nativeCallNote(t.answerDelayMs, t.thread);
    if (note) out.push(note);
    if (t.activeResources) {
      out.push('  (only Node.js internals on the stack: the loop is between callbacks)');
      out.push(waitingOn(t.activeResources));
    }
  }
  return `${out.join('\n')}\n`;
}

function waitingOn(resources: Record<string, number>): string {
  const waits = Object.entries(resources)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([type, n]) => `${type}${n > 1 ? ` ×${n}` : ''}`);
  return waits.length > 0
    ? `  Waiting on: ${waits.join(', ')}`
    : '  Waiting on nothing the loop tracks (no active handles or requests).';
}
