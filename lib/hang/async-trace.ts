/**
 * What an async operation is waiting on (the `asyncTrace` option).
 *
 * While at least one traced operation is in flight, an async hook records every async resource
 * (promises, timers, sockets, file requests, ...) created inside a traced operation — found with
 * an AsyncLocalStorage scope — with its creation stack. A promise ends when it settles
 * (`promiseResolve`); a timer, socket or request is looked at when a report is made (below). At
 * a hang, the pending ones are what the operation waits on; the leaf is found from
 * who-awaits-whom (async_hooks trigger ids) and creation depth.
 *
 * Cost: when no traced operation is in flight, the hook and the AsyncLocalStorage are both
 * disabled and nothing here runs (on Node 20/22 an enabled AsyncLocalStorage is itself an async
 * hook on every promise, so it is switched off too). While one is in flight, every promise of
 * the process goes through the hook (async_hooks is process-wide); the hook has no `destroy`
 * callback on purpose: with one, Node registers a garbage-collection callback for every promise
 * (measured: 2–5× the cost of promise-heavy code, against ~2× without). Timers, sockets and
 * requests are therefore not followed to their `destroy`; their state is read when a report is
 * made (`isPending`).
 */
import { AsyncLocalStorage, createHook, executionAsyncId, type AsyncHook } from 'node:async_hooks';
import { dirname } from 'node:path';
import { isNodeInternal, parseV8Stack, type StackFrame } from '../capture/stack-frame.js';
import { mapFrame } from '../capture/source-map.js';
import { withSourceLines } from '../capture/source-line.js';
import type { PendingResource } from '../report/hang-report.js';

/** One resource as recorded at creation. */
interface ResourceRecord {
  asyncId: number;
  type: string;
  triggerAsyncId: number;
  createdAt: number;
  /** Holder of a captured, not yet formatted, stack trace (V8 formats lazily). */
  holder: { stack?: string };
  /** The timer, handle or request itself (not kept for promises): its state says whether it is pending. */
  resource: object | undefined;
  /** A promise that settled. */
  settled: boolean;
  /** Open scopes holding this record (the creating one and its open traced ancestors). */
  openOwners: number;
}

/** Per-operation trace state. */
export class TraceScope {
  /** Resources recorded in this scope; settled promises are dropped lazily (`compact`). */
  records: ResourceRecord[] = [];
  /** `records.length` at which the next compaction runs. */
  compactAt = COMPACT_MIN;
  closed = false;
  constructor(readonly parent: TraceScope | undefined) {}
}

/**
 * Frames captured per creation stack. The walk costs per frame; the frames that matter are the
 * few above the wait (the line that created it and its callers, plus V8's async frames).
 */
const STACK_LIMIT = 12;
const COMPACT_MIN = 256;
/** hangwatch's own source folder: its frames are left out of creation stacks. */
const OWN_ROOT = ownRoot();

function ownRoot(): string {
  const top = parseV8Stack(new Error().stack ?? '')[0];
  // .../lib/hang/async-trace.(ts|js) → .../lib
  return top ? dirname(dirname(top.file)) : '\0';
}

let storage: AsyncLocalStorage<TraceScope> | undefined;
let hook: AsyncHook | undefined;
let active = 0;
/** Unsettled promises of open scopes, by async id: `promiseResolve` gives only the id. */
const promises = new Map<number, ResourceRecord>();

function init(asyncId: number, type: string, triggerAsyncId: number, resource: object): void {
  const scope = storage?.getStore();
  if (scope === undefined || scope.closed) return;
  // A nextTick callback or a queued microtask always runs unless the loop is blocked (reported
  // on its own): never what an operation waits on, not worth a stack each.
  if (type === 'TickObject' || type === 'Microtask') return;
  const isPromise = type === 'PROMISE';
  // Capturing a stack is most of a traced operation's cost (a walk of the frames, ~1–4 µs). A
  // promise derived from another recorded one (`await`'s throwaway promise, `.then`, the
  // combinators) is never the leaf, and the leaf's own stack already carries the async frames
  // above it: it is kept for who-awaits-whom, without a stack. (A promise with no parent gets the
  // current execution's id as its trigger, so only a trigger other than that names a parent.)
  const derived = isPromise && promises.has(triggerAsyncId) && triggerAsyncId !== executionAsyncId();
  const holder: { stack?: string } = {};
  if (!derived) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_LIMIT;
    Error.captureStackTrace(holder, init);
    Error.stackTraceLimit = limit;
  }
  const record: ResourceRecord = {
    asyncId,
    type,
    triggerAsyncId,
    createdAt: Date.now(),
    holder,
    resource: isPromise ? undefined : resource,
    settled: false,
    openOwners: 0,
  };
  for (let s: TraceScope | undefined = scope; s; s = s.parent) {
    if (s.closed) continue;
    record.openOwners++;
    s.records.push(record);
    if (s.records.length >= s.compactAt) compact(s);
  }
  if (isPromise) promises.set(asyncId, record);
}

/**
 * A promise settled (resolved or rejected). Its `destroy` — the garbage collector freeing it —
 * is not an end: a promise that never settles is garbage as soon as only its awaiters reach it
 * (`await new Promise(() => {})` in a helper: nothing holds the promise, the suspended caller
 * hangs off its reaction list), and such a promise is exactly what a hung operation waits on.
 * Taking `destroy` for "settled" (as this module once did) made attribution depend on whether a
 * scavenge ran before the deadline: with 30 concurrent traced operations too little was
 * allocated for a minor GC and every report listed its stuck promise; with 60 the operations'
 * own allocations (records, captured stacks) filled the young generation, a scavenge freed the
 * stuck promises and their reports listed only the operation's outer promise; Node 24 collects
 * sooner still.
 */
function settled(asyncId: number): void {
  const record = promises.get(asyncId);
  if (record === undefined) return;
  record.settled = true;
  promises.delete(asyncId);
}

/** Drop what has ended from a scope's list, so a long operation's list stays its pending set. */
function compact(scope: TraceScope): void {
  scope.records = scope.records.filter((r) => !r.settled && !hasEnded(r));
  scope.compactAt = Math.max(COMPACT_MIN, scope.records.length * 2);
}

/** Cheap end checks that need no process-wide listing: a settled promise, a timer that fired or was cleared. */
function hasEnded(r: ResourceRecord): boolean {
  if (r.settled) return true;
  const destroyed = (r.resource as { _destroyed?: unknown } | undefined)?._destroyed;
  return destroyed === true;
}

let ownerSymbol: symbol | null | undefined;

/** Node's internal `owner_symbol`: a native handle's JavaScript owner (the net.Socket of a TCP handle). */
function ownerOf(resource: object): unknown {
  if (ownerSymbol === undefined) {
    const found = Object.getOwnPropertySymbols(resource).find((s) => s.description === 'owner_symbol');
    if (found) ownerSymbol = found;
  }
  return ownerSymbol ? (resource as Record<symbol, unknown>)[ownerSymbol] : undefined;
}

/** Handles and requests the event loop is waiting on now (what keeps it alive, ref'd or not). */
function activeNow(): Set<unknown> {
  const p = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };
  try {
    return new Set([...(p._getActiveHandles?.() ?? []), ...(p._getActiveRequests?.() ?? [])]);
  } catch {
    return new Set();
  }
}

/**
 * Whether a timer, handle or request is still pending, read from its own state at report time:
 * a timer or immediate not yet run or cleared (`_destroyed`); a handle (socket, server, pipe)
 * whose owner is still an active handle and not destroyed; a request (file, DNS, connect,
 * write) the loop still waits on; an HTTP client request with no complete response. Anything
 * else — a user's `AsyncResource`, which only its `emitDestroy` would end — is left out rather
 * than listed long after it ended.
 */
function isPending(r: ResourceRecord, active: Set<unknown>): boolean {
  const res = r.resource;
  if (res === undefined) return !r.settled;
  const timer = (res as { _destroyed?: unknown })._destroyed;
  if (typeof timer === 'boolean') return !timer;
  if (active.has(res)) return true;
  const owner = ownerOf(res) as { destroyed?: unknown } | undefined;
  if (owner !== undefined && owner !== null) return active.has(owner) && owner.destroyed !== true;
  const req = (res as { req?: { destroyed?: unknown; res?: { complete?: unknown } | null } }).req;
  if (req && typeof req.destroyed === 'boolean') return !req.destroyed && req.res?.complete !== true;
  return false;
}

function ensureHook(): void {
  storage ??= new AsyncLocalStorage<TraceScope>();
  hook ??= createHook({ init, promiseResolve: settled });
}

/** A new trace scope, nested in the current open one (if any); the hook records while any scope is open. */
export function openScope(): TraceScope {
  ensureHook();
  let parent = active > 0 ? storage!.getStore() : undefined;
  while (parent?.closed) parent = parent.parent;
  const scope = new TraceScope(parent);
  if (active++ === 0) hook!.enable();
  return scope;
}

/** Run `fn` inside an open scope: what it creates, and what its continuations create, is the scope's. */
export function runInScope<R>(scope: TraceScope, fn: () => R): R {
  return storage!.run(scope, fn);
}

/** The operation ended: forget its resources and, if it was the last, turn the hook and the storage off. */
export function closeScope(scope: TraceScope): void {
  if (scope.closed) return;
  scope.closed = true;
  for (const record of scope.records) {
    if (--record.openOwners === 0 && !record.settled && record.resource === undefined) promises.delete(record.asyncId);
  }
  scope.records = [];
  if (--active === 0) {
    hook?.disable();
    // Contexts that still carry a closed scope are ignored (`closed`); the storage is enabled
    // again by the next traced operation's `run`.
    storage?.disable();
  }
}

function framesOf(stack: string | undefined): { user: StackFrame[]; depth: number } {
  const all = parseV8Stack(stack ?? '');
  const user = all.filter((f) => !isNodeInternal(f) && !f.file.startsWith(OWN_ROOT));
  // Depth inside the operation: frames above hangwatch's own entry frame (all of them when the
  // entry is not on the stack, e.g. after an await or beyond the captured frames).
  const entry = all.findIndex((f) => f.file.startsWith(OWN_ROOT));
  return { user, depth: entry >= 0 ? entry : all.length };
}

/**
 * The pending resources of a scope, the most likely leaf first, grouped by creation site, and
 * the await chain above the leaf.
 */
export function pendingOf(scope: TraceScope, now: number): { pending: PendingResource[]; awaitChain: StackFrame[] } {
  const active = activeNow();
  const list = scope.records.filter((r) => isPending(r, active));
  // Who waits on whom: a resource whose trigger is another pending resource derives from it.
  const ids = new Set(list.map((r) => r.asyncId));
  const awaited = new Set<number>();
  for (const r of list) if (ids.has(r.triggerAsyncId)) awaited.add(r.triggerAsyncId);
  const scored = list.map((r) => {
    const { user, depth } = framesOf(r.holder.stack);
    const derived = ids.has(r.triggerAsyncId);
    const handle = r.type !== 'PROMISE' ? 1 : 0;
    // A leaf: not derived from another pending resource here; a handle (timer, socket, request)
    // or a promise someone awaits. A handle is what JavaScript ultimately waits on; among equals,
    // deeper creation stacks are closer to the actual wait, then the most recent.
    const leafish = !derived && (handle || awaited.has(r.asyncId)) ? 1 : 0;
    return { r, user, leafish, handle, depth };
  });
  scored.sort(
    (a, b) => b.leafish - a.leafish || b.handle - a.handle || b.depth - a.depth || b.r.createdAt - a.r.createdAt,
  );
  // Creation stacks are capped, so depth alone can rank a handler's own promise above the wait
  // inside it (`await pool.connect()`). A candidate created inside the function that created the
  // current leaf is closer to the actual wait: follow such nesting down.
  let leafIndex = 0;
  for (let step = 0; step < scored.length; step++) {
    const top = scored[leafIndex]?.user[0];
    if (!top || !scored[leafIndex]?.leafish) break;
    const inner = scored.findIndex(
      (s, i) =>
        i !== leafIndex &&
        s.leafish === 1 &&
        s.user.some((f, k) => k > 0 && f.file === top.file && f.functionName === top.functionName),
    );
    if (inner < 0) break;
    leafIndex = inner;
  }
  if (leafIndex > 0) scored.unshift(...scored.splice(leafIndex, 1));

  const groups = new Map<string, PendingResource>();
  for (const { r, user } of scored) {
    // A derived promise (no stack of its own) counted for who-awaits-whom, not listed.
    if (r.holder.stack === undefined) continue;
    const top = user[0];
    const key = `${r.type}\0${top ? `${top.file}:${top.line}` : r.asyncId}`;
    const existing = groups.get(key);
    if (existing) {
      existing.count++;
      continue;
    }
    groups.set(key, {
      asyncId: r.asyncId,
      type: r.type,
      ageMs: now - r.createdAt,
      stack: withSourceLines(user.map((f) => mapFrame(f))),
      count: 1,
    });
  }
  const pending = [...groups.values()];
  return { pending, awaitChain: pending[0]?.stack ?? [] };
}
