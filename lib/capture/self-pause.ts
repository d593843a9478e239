/**
 * hangwatch's own pauses of the program: the synchronous work hangwatch itself does on the
 * program's main thread (a heap snapshot, starting or stopping the CPU profiler, writing a report).
 * Every such pause is recorded here, so that what measures the program — the event-loop delay
 * probe, the block monitor, the doctor — can tell hangwatch's pauses from the program's own
 * blocking and show them apart ("hangwatch paused the program for 1.8 s to take a heap snapshot").
 *
 * The registry is process-wide (kept on `globalThis`), so the ESM and CJS builds of hangwatch
 * loaded side by side in one process share it.
 */
import { performance } from 'node:perf_hooks';

export type SelfPauseReason = 'heap-snapshot' | 'live-heap-probe' | 'cpu-profiler' | 'report';

export interface SelfPause {
  reason: SelfPauseReason;
  /** When it began, ms since the epoch (fractional). */
  startedAtMs: number;
  /** How long the main thread was held, ms. */
  durationMs: number;
}

interface Registry {
  /** Sum of the durations of every pause so far, ms. */
  totalMs: number;
  /** The latest pauses, oldest first. */
  recent: SelfPause[];
  listeners: Set<(pause: SelfPause) => void>;
}

const KEY = Symbol.for('hangwatch.selfPauses');
const KEPT = 64;

function registry(): Registry {
  const holder = globalThis as { [KEY]?: Registry };
  holder[KEY] ??= { totalMs: 0, recent: [], listeners: new Set() };
  return holder[KEY];
}

/** Record a pause that has just ended. */
export function recordSelfPause(pause: SelfPause): void {
  const r = registry();
  r.totalMs += pause.durationMs;
  r.recent.push(pause);
  if (r.recent.length > KEPT) r.recent.shift();
  for (const listener of r.listeners) {
    try {
      listener(pause);
    } catch {
      // a failing listener must not reach the work that paused
    }
  }
}

/**
 * Run `fn` and record its synchronous part as a pause of `reason` (for an async `fn`, the part
 * before its first `await`: where V8 writes a heap snapshot or starts a profiler). Returns what `fn` returns.
 */
export function measureSelfPause<T>(reason: SelfPauseReason, fn: () => T): T {
  const startedAt = performance.now();
  try {
    return fn();
  } finally {
    const endedAt = performance.now();
    recordSelfPause({ reason, startedAtMs: performance.timeOrigin + startedAt, durationMs: endedAt - startedAt });
  }
}

/** Total time hangwatch has held this thread so far, ms (only ever grows). */
export function selfPauseTotalMs(): number {
  return registry().totalMs;
}

/** The latest pauses (up to 64), oldest first. */
export function recentSelfPauses(): SelfPause[] {
  return registry().recent.slice();
}

/** How much of the span [fromMs, toMs] (epoch ms) hangwatch's recent pauses cover, and the longest one's reason. */
export function selfPauseOverlap(fromMs: number, toMs: number): { ms: number; reason?: SelfPauseReason } {
  let ms = 0;
  let longest = 0;
  let reason: SelfPauseReason | undefined;
  for (const p of registry().recent) {
    const overlap = Math.min(toMs, p.startedAtMs + p.durationMs) - Math.max(fromMs, p.startedAtMs);
    if (overlap <= 0) continue;
    ms += overlap;
    if (overlap > longest) {
      longest = overlap;
      reason = p.reason;
    }
  }
  return reason ? { ms, reason } : { ms };
}

/** Call `listener` after each pause; returns the function that stops it. */
export function onSelfPause(listener: (pause: SelfPause) => void): () => void {
  const r = registry();
  r.listeners.add(listener);
  return () => r.listeners.delete(listener);
}

/** What a pause was for, in words: "take a heap snapshot". */
export function describeSelfPauseReason(reason: SelfPauseReason): string {
  switch (reason) {
    case 'heap-snapshot':
      return 'take a heap snapshot';
    case 'live-heap-probe':
      return 'measure the live heap (one full garbage collection)';
    case 'cpu-profiler':
      return 'start or stop the CPU profiler';
    default:
      return 'write a report';
  }
}
