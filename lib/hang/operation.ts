/**
 * One operation under hang detection: its deadline entry, its promise plumbing and what has been
 * reported about it so far. An operation begun with `detector.begin()` is also the handle given
 * to the caller (`HangHandle`): no second object per operation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ThreadCpuWindow } from '../loop/thread-cpu.js';
import type { HangReport } from '../report/hang-report.js';
import { closeScope, runInScope, type TraceScope } from './async-trace.js';
import type { DeadlineEntry, DeadlineList } from './deadline-scheduler.js';
import type { HangError } from './errors.js';
import type { HangContext, ResolvedHangOptions } from './hang-options.js';
import type { StepLog } from './step-log.js';
import { checkStep, markStep, runStep } from './step-recording.js';

/** What an operation needs of the hang runtime that started it. */
export interface OperationRuntime {
  /** The operation ended (value, error or `end()`); a HangError when it must be rejected as hung. */
  finish(op: Operation): HangError | undefined;
}

let nextId = 1;

/**
 * An operation begun with `begin()` and ended with `end()`: hang detection for work that is not
 * one function call or one promise — an event-driven job, a websocket message, a stream.
 */
export interface HangHandle {
  /** The operation's id in its reports (`operationId`). */
  readonly id: number;
  /** `end()` was called, or the deadline passed under action `reject`/`abort`. */
  readonly ended: boolean;
  /**
   * Aborted with the `HangError` when the deadline passes under action `reject` or `abort`.
   * Created on first access (an AbortSignal costs ~2 µs): read it only where it is used.
   */
  readonly signal: AbortSignal;
  /**
   * Call `fn` inside the operation's async context and return its value: with `asyncTrace`, the
   * resources `fn` creates — and those of its continuations — are the operation's. Without
   * `asyncTrace` it just calls `fn`.
   */
  run<R>(fn: () => R): R;
  /**
   * Record a step of the operation. `step(name)` ends the step begun by the previous
   * `step(name)` and begins this one (`end()` ends the last); `step(name, fn)` runs `fn` as a
   * step and returns its value (a returned promise ends the step when it settles). A hang report
   * names the step the operation is stuck in and how long the ones before it took.
   */
  step(name: string): void;
  step<R>(name: string, fn: () => R): R;
  /** End the operation (the deadline no longer applies). Later calls do nothing. */
  end(): void;
}

/**
 * Supplies an operation's name and context when a report is made, and hears of its deadline
 * under action `reject`/`abort` — so that a hot caller (the request middleware) keeps its
 * per-operation work to fields on one object, computing report facts only for reports.
 */
export interface OperationOwner {
  hangName(): string;
  hangContext(): HangContext;
  /** The deadline passed under action `reject`/`abort` (the operation is ended). Must not throw. */
  onHangTimeout(error: HangError): void;
}

export class Operation implements DeadlineEntry, HangHandle {
  // DeadlineEntry
  deadline = 0;
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
  /** The HangError of actions reject/abort, once made. */
  hangError: HangError | undefined;
  /** Begun as a handle: `reject` aborts the signal too (there is no promise to reject). */
  isHandle = false;
  /** Reports made by the watchdog while the loop was blocked, not yet given to onHang / the action. */
  undelivered: HangReport[] | undefined;
  scope: TraceScope | undefined;
  /** Per-call context (createHangDetector); else the options' context is used. */
  context: HangContext | undefined;
  owner: OperationOwner | undefined;
  /** Runs as the current operation (`steps: true`, or a pool is watched): see current-operation.ts. */
  carriesContext = false;
  /** Its steps, from the first one on. */
  steps: StepLog | undefined;
  /** When it ended (0 while running): a pool holder whose operation ended long ago is a leak. */
  endedAt = 0;
  /**
   * Set on the operations of `watchEventLoop` (one per turn of the loop): the deadline timer
   * running on a free loop means the loop turned — renew, do not report.
   */
  renewOnTimer: ((now: number) => void) | undefined;
  /** `watchEventLoop`: the thread's CPU time since the loop last turned, to tell blocked from starved. */
  cpuWindow: ThreadCpuWindow | undefined;
  /**
   * The runtime that started the operation and ends it (set by its `start`): passed in rather than
   * looked up, so that this module does not depend on the runtime, and so that the copy of
   * hangwatch that started an operation is the one that finishes it.
   */
  runtime: OperationRuntime | undefined;

  constructor(
    readonly config: ResolvedHangOptions,
    readonly name: string,
    now: number,
  ) {
    this.startedAt = now;
    this.keepsAlive = config.keepAlive;
  }

  get ended(): boolean {
    return this.settled;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.hangError) this.controller.abort(this.hangError);
    }
    return this.controller.signal;
  }

  run<R>(fn: () => R): R {
    const scope = this.scope;
    if (this.carriesContext) return runAsCurrent(this, scope ? () => runInScope(scope, fn) : fn);
    return scope ? runInScope(scope, fn) : fn();
  }

  step(name: string): void;
  step<R>(name: string, fn: () => R): R;
  step<R>(name: string, fn?: () => R): R | undefined {
    checkStep(name, fn);
    if (fn) return this.settled ? fn() : runStep(this, name, fn);
    if (!this.settled) markStep(this, name);
    return undefined;
  }

  end(): void {
    if (this.settled) return;
    const marker = this.steps?.marker;
    if (marker) this.steps?.end(marker, Date.now(), false);
    this.runtime?.finish(this);
  }

  /**
   * Close the trace scope with the async-trace module that opened it: the runtime ending the
   * operation may belong to another copy of hangwatch (process-registry.ts).
   */
  closeScope(): void {
    if (this.scope) closeScope(this.scope);
  }
}

// The current operation: which operation the running code belongs to, for the facts recorded
// while it runs — its steps (`step()`, outbound HTTP requests) and the pool resources it acquires
// (`watchPool`). An AsyncLocalStorage that operations enter only when they carry their context
// (context-carrying.ts); otherwise `currentOperation()` is one undefined check.
let current: AsyncLocalStorage<Operation> | undefined;

/** Run `fn` with `op` as the current operation (its continuations too). */
export function runAsCurrent<R>(op: Operation, fn: () => R): R {
  current ??= new AsyncLocalStorage<Operation>();
  return current.run(op, fn);
}

/** The operation the running code belongs to, if it carries its context and has not ended. */
export function currentOperation(): Operation | undefined {
  if (!current) return undefined;
  const op = current.getStore();
  return op && !op.settled ? op : undefined;
}

/** Whether any operation has ever carried its context (used to warn about a `step()` that cannot be recorded). */
export function contextEverCarried(): boolean {
  return current !== undefined;
}
