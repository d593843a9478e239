/**
 * What an async operation is waiting on (the `asyncTrace` option).
 *
 * While at least one traced operation is in flight, an async hook records every async resource
 * (promises, timers, sockets, file requests, ...) created inside a traced operation — found with
 * an AsyncLocalStorage scope — with its creation stack, and forgets it when it resolves or is
 * destroyed. At a hang, the pending ones are what the operation waits on; the leaf is found from
 * who-awaits-whom (async_hooks trigger ids) and creation depth. When no traced operation is in
 * flight, the hook is disabled and nothing here costs anything.
 */
import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';
import { dirname } from 'node:path';
import { isNodeInternal, parseV8Stack, type StackFrame } from '../capture/stack-frame.js';
import { mapFrame } from '../capture/source-map.js';
import { withSourceLines } from '../capture/source-line.js';
import type { PendingResource } from '../report/hang-report.js';

/** One pending resource as recorded at creation. */
interface ResourceRecord {
  asyncId: number;
  type: string;
  triggerAsyncId: number;
  createdAt: number;
  /** Holder of a captured, not yet formatted, stack trace (V8 formats lazily). */
  holder: { stack?: string };
  /** Traced operations this resource belongs to (the creating one and its traced ancestors). */
  owners: TraceScope[];
}

/** Per-operation trace state. */
export class TraceScope {
  readonly pending = new Map<number, ResourceRecord>();
  closed = false;
  constructor(readonly parent: TraceScope | undefined) {}
}

const STACK_LIMIT = 24;
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
const records = new Map<number, ResourceRecord>();

function init(asyncId: number, type: string, triggerAsyncId: number): void {
  const scope = storage?.getStore();
  if (!scope || scope.closed) return;
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_LIMIT;
  Error.captureStackTrace(holder, init);
  Error.stackTraceLimit = limit;
  const owners: TraceScope[] = [];
  const record: ResourceRecord = { asyncId, type, triggerAsyncId, createdAt: Date.now(), holder, owners };
  for (let s: TraceScope | undefined = scope; s; s = s.parent) {
    if (s.closed) continue;
    owners.push(s);
    s.pending.set(asyncId, record);
  }
  records.set(asyncId, record);
}

function settled(asyncId: number): void {
  const record = records.get(asyncId);
  if (!record) return;
  forget(asyncId, record);
}

/**
 * A resource was destroyed. For a handle or request (timer, socket, file request) that is its end.
 * For a promise it is not: async_hooks emits a promise's `destroy` when the garbage collector
 * frees it, and a promise that never settles is garbage as soon as only its awaiters reach it
 * (`await new Promise(() => {})` in a helper: nothing holds the promise, the suspended caller
 * hangs off its reaction list). Such a promise is exactly what a hung operation waits on, so it
 * must stay listed; a promise ends only through `promiseResolve`. Treating `destroy` as "settled"
 * made attribution depend on whether a scavenge ran before the deadline: with 30 concurrent
 * operations little enough was allocated that no minor GC ran and every report listed its
 * stuck promise; with 60 the traced operations' own allocations (records, captured stacks)
 * filled the young generation, a scavenge freed the stuck promises, and their reports listed
 * only the operation's outer promise; on Node 24 collections come sooner still.
 */
function destroyed(asyncId: number): void {
  const record = records.get(asyncId);
  if (!record || record.type === 'PROMISE') return;
  forget(asyncId, record);
}

function forget(asyncId: number, record: ResourceRecord): void {
  records.delete(asyncId);
  for (const s of record.owners) s.pending.delete(asyncId);
}

function ensureHook(): void {
  storage ??= new AsyncLocalStorage<TraceScope>();
  hook ??= createHook({ init, promiseResolve: settled, destroy: destroyed });
}

/** A new trace scope, nested in the current one (if any); the hook records while any scope is open. */
export function openScope(): TraceScope {
  ensureHook();
  const scope = new TraceScope(storage!.getStore());
  if (active++ === 0) hook!.enable();
  return scope;
}

/** Run `fn` inside an open scope: what it creates, and what its continuations create, is the scope's. */
export function runInScope<R>(scope: TraceScope, fn: () => R): R {
  return storage!.run(scope, fn);
}

/** The operation ended: forget its resources and, if it was the last, turn the hook off. */
export function closeScope(scope: TraceScope): void {
  if (scope.closed) return;
  scope.closed = true;
  for (const [id, record] of scope.pending) {
    const i = record.owners.indexOf(scope);
    if (i >= 0) record.owners.splice(i, 1);
    if (record.owners.length === 0) records.delete(id);
  }
  scope.pending.clear();
  if (--active === 0) hook?.disable();
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
  const list = [...scope.pending.values()];
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
  scored.sort((a, b) => b.leafish - a.leafish || b.handle - a.handle || b.depth - a.depth || b.r.createdAt - a.r.createdAt);
  // Creation stacks are capped, so depth alone can rank a handler's own promise above the wait
  // inside it (`await pool.connect()`). A candidate created inside the function that created the
  // current leaf is closer to the actual wait: follow such nesting down.
  let leafIndex = 0;
  for (let step = 0; step < scored.length; step++) {
    const top = scored[leafIndex]?.user[0];
    if (!top || !scored[leafIndex]?.leafish) break;
    const inner = scored.findIndex(
      (s, i) => i !== leafIndex && s.leafish === 1 && s.user.some((f, k) => k > 0 && f.file === top.file && f.functionName === top.functionName),
    );
    if (inner < 0) break;
    leafIndex = inner;
  }
  if (leafIndex > 0) scored.unshift(...scored.splice(leafIndex, 1));

  const groups = new Map<string, PendingResource>();
  for (const { r, user } of scored) {
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
