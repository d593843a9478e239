/**
 * The report of one hung operation: JSON-serializable, versioned (`schema`, `schemaVersion`).
 */
import type { StackFrame } from '../capture/stack-frame.js';
import type { BlockCause } from '../loop/thread-cpu.js';
import type { REPORT_SCHEMA_VERSION } from './schema.js';

export type HangAction = 'report' | 'reject' | 'abort' | 'exit';

/**
 * `blocked`: the event loop was blocked at the deadline — `mainStack` is the JS stack of the main
 * thread captured while it was still blocked.
 * `pending`: the loop was free; the operation is waiting on something — see `pending`.
 */
export type HangKind = 'blocked' | 'pending';

/** A resource created inside the operation that had not completed when the report was made. */
export interface PendingResource {
  /** async_hooks id. */
  asyncId: number;
  /** async_hooks type: PROMISE, Timeout, TCPWRAP, FSREQCALLBACK, GETADDRINFOREQWRAP, ... */
  type: string;
  /** How long ago it was created, in ms. */
  ageMs: number;
  /** Creation stack (user frames first, most recent call first), with `async` frames for the await chain. */
  stack: StackFrame[];
  /** How many pending resources of this operation share this creation stack. */
  count: number;
}

/** What a step is: a `step()` / `handle.step()` of the program, or one recorded automatically. */
export type StepKind = 'step' | 'http';

/** One step of an operation, as a report shows it. */
export interface StepSummary {
  /** 1-based position among the operation's steps. */
  index: number;
  /** The step's name; for an HTTP request `GET https://api.example.com/invoices`. */
  name: string;
  kind: StepKind;
  /** When the step began, in ms after the operation began. */
  startMs: number;
  /** How long it took; for a running step, how long it has run so far. */
  durationMs: number;
  /** The step threw or rejected (an HTTP request failed). */
  failed?: true;
}

/** The steps of an operation (`step()`, `handle.step()`, outbound HTTP requests). */
export interface HangSteps {
  /** Steps begun so far. */
  total: number;
  /** Finished steps in the order they began. */
  finished: StepSummary[];
  /** Steps still running, outermost first: the operation is stuck in the last one. */
  running: StepSummary[];
  /** Older finished steps left out (an operation keeps its most recent 100) and their total time. */
  omitted?: number;
  omittedMs?: number;
}

/** Resource counts of a watched pool (`watchPool`). */
export interface PoolCounts {
  /** Resources the pool has (checked out and idle). */
  size: number;
  /** The pool's maximum size, when it has one. */
  max?: number;
  idle: number;
  checkedOut: number;
  /** Acquisitions waiting for a resource. */
  waiting: number;
}

/** Who holds a resource of a watched pool. */
export interface PoolHolder {
  /** Since when, in ms before the report. */
  heldMs: number;
  /** The operation that acquired it; absent when it was acquired outside any operation. */
  operation?: {
    id: number;
    /** The operation's name, for a request `GET /tasks/:id` (method and route pattern) when the route is known. */
    name: string;
    context?: Record<string, string | number | boolean>;
    /** The operation ended this long ago (ms) and still holds the resource: a leak. */
    endedMsAgo?: number;
  };
  /** Where it was acquired (most recent call first; the first frame is the caller's, source-mapped). */
  acquiredAt: StackFrame[];
}

/** A watched pool the operation waits on, and who holds its resources. */
export interface PoolWait {
  /** `name` given to `watchPool`. */
  pool: string;
  /** `pg.Pool`, `generic-pool`, or the adapter's `kind`. */
  kind: string;
  /** How long the operation has waited to acquire a resource. */
  waitingMs: number;
  counts: PoolCounts;
  /** Holders, those whose operation already ended first, then the longest held. */
  holders: PoolHolder[];
  /** Holders left out of `holders` (at most 50 are listed). */
  holdersOmitted?: number;
}

export interface HangReport {
  schema: 'hangwatch.hang-report';
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** Operation label (`name` option, else the function's name). */
  name: string;
  /** Process-unique id of the operation. */
  operationId: number;
  kind: HangKind;
  timeoutMs: number;
  action: HangAction;
  /** 0 for the first report of an operation, 1 for the first repeat, ... */
  repeat: number;
  startedAt: string;
  detectedAt: string;
  /** Time from the start of the operation to the capture. */
  elapsedMs: number;
  /** Time from the deadline (or repeat time) to the capture. */
  lateByMs: number;
  pid: number;
  threadId: number;
  /** Facts given by the caller (`context` option): request method, route, request id, ... */
  context?: Record<string, string | number | boolean>;
  /** Main-thread stack while blocked, most recent call first (kind `blocked`). */
  mainStack?: StackFrame[];
  /**
   * Time the main thread took to answer the watchdog's first command. Above ~100 ms it was
   * inside a native call V8 cannot interrupt (a big JSON.parse, a sync native addon call), and
   * `mainStack` shows the JavaScript that made the call, just after it returned.
   */
  pauseDelayMs?: number;
  /** Why `mainStack` is missing, when it is. */
  stackUnavailable?: string;
  /**
   * `watchEventLoop` reports of kind `blocked`: whether the main thread was on CPU since the loop
   * last turned (`blocked`: synchronous work) or not running (`starved`: the process was not
   * scheduled or was stopped) — the rule of BlockEvent.cause (docs/event-loop.md).
   */
  cause?: BlockCause;
  /** CPU time the main thread used since the loop last turned, ms (with `cause`). */
  cpuMs?: number;
  /** One-minute load average at the report (with `cause`; none on Windows). */
  loadAverage?: number;
  /** CPUs available to the process (with `cause`). */
  cpus?: number;
  /** Pending resources of the operation, the one it most likely waits on first (with `asyncTrace`). */
  pending?: PendingResource[];
  /** Frames of the await chain above the leaf the operation waits on (with `asyncTrace`). */
  awaitChain?: StackFrame[];
  /** The operation's steps: which one it is stuck in, how long the ones before it took. */
  steps?: HangSteps;
  /** Watched pools the operation waits on, with who holds their resources (`watchPool`). */
  pools?: PoolWait[];
  /** Hint when the report could say more with other options. */
  hint?: string;
}
