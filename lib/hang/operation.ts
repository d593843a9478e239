/**
 * One operation under hang detection: its deadline entry, its promise plumbing and what has been
 * reported about it so far.
 */
import type { HangReport } from '../report/hang-report.js';
import type { TraceScope } from './async-trace.js';
import type { DeadlineEntry, DeadlineList } from './deadline-scheduler.js';
import type { HangContext, ResolvedHangOptions } from './hang-options.js';

let nextId = 1;

export class Operation implements DeadlineEntry {
  // DeadlineEntry
  deadline = 0;
  listKey = 0;
  keepsAlive: boolean;
  prev: Operation | null = null;
  next: Operation | null = null;
  list: DeadlineList | null = null;

  readonly id = nextId++;
  readonly startedAt: number;
  /** Reports made so far. */
  reports = 0;
  /** The watchdog must not capture this operation again before this time (repeat interval). */
  blockedCaptureAfter = 0;
  settled = false;
  /** Created only when the function declares the signal parameter (an AbortSignal costs ~2 µs). */
  controller: AbortController | undefined;
  reject: ((err: unknown) => void) | undefined;
  /** Reports made by the watchdog while the loop was blocked, not yet given to onHang / the action. */
  undelivered: HangReport[] | undefined;
  scope: TraceScope | undefined;
  /** Per-call context (createHangDetector); else the options' context is used. */
  context: HangContext | undefined;

  constructor(
    readonly config: ResolvedHangOptions,
    readonly name: string,
    now: number,
  ) {
    this.startedAt = now;
    this.keepsAlive = config.keepAlive;
  }
}
