/**
 * The bookkeeping behind `watchPool`: for every resource checked out of a pool, the operation
 * that acquired it, where and since when; for every acquisition still waiting, the operation
 * that waits. Installed by wrapping the pool's acquire (and release) methods on the pool object
 * itself; `uninstall()` puts them back.
 */
import { dirname } from 'node:path';
import { isNodeInternal, parseV8Stack, type StackFrame } from '../capture/stack-frame.js';
import { mapFrame } from '../capture/source-map.js';
import { withSourceLines } from '../capture/source-line.js';
import { currentOperation, type Operation } from '../hang/operation.js';
import { contextOfOperation } from '../hang/resolve-context.js';
import type { PoolCounts, PoolHolder, PoolWait } from '../report/hang-report.js';
import type { ResolvedPoolAdapter } from './pool-adapter.js';

/** Frames kept of an acquisition's stack (captured unformatted; V8 formats it only if a report needs it). */
const STACK_LIMIT = 16;
/** Holders listed in one report. */
export const MAX_LISTED_HOLDERS = 50;
/** hangwatch's own source folder (…/lib): its frames are left out of acquire sites. */
const OWN_ROOT = dirname(dirname(parseV8Stack(new Error().stack ?? '')[0]?.file ?? '/\0/\0'));

/** One acquisition: waiting for a resource, then holding it. */
export interface Acquisition {
  op: Operation | undefined;
  /** When it began waiting; then when it got the resource. */
  since: number;
  readonly stack: { stack?: string };
  /** The acquire site, once a report needed it (the same for every report). */
  site?: StackFrame[];
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export class PoolWatcher {
  readonly holders = new Map<object, Acquisition>();
  readonly waiters = new Set<Acquisition>();
  private readonly restore: Array<() => void> = [];
  private readonly wrappedResources = new WeakSet<object>();
  /** The callbacks this watcher gave a callback-style acquire. */
  readonly callbacks = new WeakSet<object>();

  constructor(
    readonly pool: object,
    readonly name: string,
    readonly adapter: ResolvedPoolAdapter,
    /** Capture each acquisition's stack (the acquire site; ~2–4 µs of CPU per acquisition). */
    readonly captureStacks: boolean,
  ) {}

  install(): void {
    const watcher = this;
    this.replaceMethod(
      this.adapter.acquire,
      (original) =>
        function acquireWatched(this: unknown, ...args: unknown[]): unknown {
          const last = args[args.length - 1];
          // The pool retrying an acquisition it already began (mysql2 does, when the connection it
          // meant to hand over was removed): the first acquisition goes on.
          if (typeof last === 'function' && watcher.callbacks.has(last)) return original.apply(this, args);
          const a = watcher.beginAcquire(acquireWatched);
          if (typeof last === 'function') {
            const acquired = function acquired(
              this: unknown,
              err: unknown,
              resource: unknown,
              ...rest: unknown[]
            ): unknown {
              watcher.endAcquire(a, err ? undefined : resource);
              return (last as AnyFunction).call(this, err, resource, ...rest);
            };
            watcher.callbacks.add(acquired);
            args[args.length - 1] = acquired;
          }
          let result: unknown;
          try {
            result = original.apply(this, args);
          } catch (err) {
            watcher.endAcquire(a, undefined);
            throw err;
          }
          if (typeof last !== 'function') {
            if (isThenable(result)) {
              result.then(
                (resource) => watcher.endAcquire(a, resource),
                () => watcher.endAcquire(a, undefined),
              );
            } else {
              watcher.endAcquire(a, undefined);
            }
          }
          return result;
        },
    );
    for (const m of this.adapter.release) {
      this.replaceMethod(
        m,
        (original) =>
          function releaseWatched(this: unknown, ...args: unknown[]): unknown {
            const resource = args[0];
            if (resource && typeof resource === 'object') watcher.released(resource);
            return original.apply(this, args);
          },
      );
    }
    const stop = this.adapter.listenReleases?.(this.pool, (resource) => this.released(resource));
    if (stop) this.restore.push(stop);
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
    this.holders.clear();
    this.waiters.clear();
  }

  /** An acquisition begins, in the acquirer's async context: note who and where (the stack is formatted only for a report). */
  beginAcquire(above: AnyFunction): Acquisition {
    const stack: { stack?: string } = {};
    if (this.captureStacks) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = STACK_LIMIT;
      Error.captureStackTrace(stack, above);
      Error.stackTraceLimit = limit;
    }
    const a: Acquisition = { op: currentOperation(), since: Date.now(), stack };
    this.waiters.add(a);
    return a;
  }

  /** The acquisition ended: with a resource (now held) or without (failed). */
  endAcquire(a: Acquisition, resource: unknown): void {
    if (!this.waiters.delete(a)) return;
    if (!resource || (typeof resource !== 'object' && typeof resource !== 'function')) return;
    a.since = Date.now();
    this.holders.set(resource, a);
    const m = this.adapter.resourceRelease;
    if (m) this.wrapResourceRelease(resource, m);
  }

  released(resource: object): void {
    this.holders.delete(resource);
  }

  counts(): PoolCounts {
    let given: { size?: number; max?: number; idle?: number; waiting?: number } = {};
    try {
      given = this.adapter.counts?.(this.pool) ?? {};
    } catch {
      given = {};
    }
    const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const idle = num(given.idle) ?? 0;
    const size = num(given.size) ?? this.holders.size + idle;
    const counts: PoolCounts = {
      size,
      idle,
      checkedOut: Math.max(0, size - idle),
      waiting: num(given.waiting) ?? this.waiters.size,
    };
    const max = num(given.max);
    if (max !== undefined) counts.max = max;
    return counts;
  }

  /** Holders whose operation has ended. */
  heldAfterEnd(): number {
    let n = 0;
    for (const a of this.holders.values()) if (a.op?.settled) n++;
    return n;
  }

  /** What `op` waits for from this pool, with the holders — undefined when it is not waiting on it. */
  waitOf(op: Operation, now: number): PoolWait | undefined {
    let waiting: Acquisition | undefined;
    for (const a of this.waiters) if (a.op === op && (!waiting || a.since < waiting.since)) waiting = a;
    if (!waiting) return undefined;
    const wait: PoolWait = {
      pool: this.name,
      kind: this.adapter.kind,
      waitingMs: now - waiting.since,
      counts: this.counts(),
      holders: this.listHolders(now, MAX_LISTED_HOLDERS),
    };
    if (this.holders.size > MAX_LISTED_HOLDERS) wait.holdersOmitted = this.holders.size - MAX_LISTED_HOLDERS;
    return wait;
  }

  /** The holders as reports show them: those whose operation already ended first (longest ago), then the longest held. */
  listHolders(now: number, limit: number): PoolHolder[] {
    const all = [...this.holders.values()].map((a) => ({
      a,
      endedAgo: a.op?.settled ? now - a.op.endedAt : -1,
      held: now - a.since,
    }));
    all.sort((x, y) => y.endedAgo - x.endedAgo || y.held - x.held);
    return all.slice(0, limit).map(({ a, held }) => holderOf(a, held, now));
  }

  private replaceMethod(name: string, wrap: (original: AnyFunction) => AnyFunction): void {
    const target = this.pool as Record<string, unknown>;
    const original = target[name] as AnyFunction;
    const own = Object.hasOwn(target, name);
    const wrapped = wrap(original);
    target[name] = wrapped;
    this.restore.push(() => {
      if (target[name] !== wrapped) return; // replaced again by someone else: leave theirs
      if (own) target[name] = original;
      else delete target[name];
    });
  }

  private wrapResourceRelease(resource: object, name: string): void {
    if (this.wrappedResources.has(resource)) return;
    const r = resource as Record<string, unknown>;
    const original = r[name];
    if (typeof original !== 'function') return;
    this.wrappedResources.add(resource);
    const watcher = this;
    r[name] = function releaseWatched(this: unknown, ...args: unknown[]): unknown {
      watcher.released(resource);
      return (original as AnyFunction).apply(this, args);
    };
  }
}

function holderOf(a: Acquisition, heldMs: number, now: number): PoolHolder {
  a.site ??= acquireSite(a.stack.stack);
  const holder: PoolHolder = { heldMs, acquiredAt: a.site };
  const op = a.op;
  if (op) {
    const context = contextOfOperation(op);
    const route = context?.route;
    const name =
      op.owner && typeof route === 'string' && route !== '(unmatched)' && context?.method !== undefined
        ? `${String(context.method)} ${route}`
        : op.owner
          ? op.owner.hangName()
          : op.name;
    holder.operation = { id: op.id, name, ...(context ? { context } : {}) };
    if (op.settled) holder.operation.endedMsAgo = now - op.endedAt;
  }
  return holder;
}

/** The acquisition's stack from the caller's frame on (node and hangwatch frames left out; the pool library's too when the caller is known), source-mapped. */
function acquireSite(stack: string | undefined): StackFrame[] {
  const frames = parseV8Stack(stack ?? '').filter((f) => !isNodeInternal(f) && !f.file.startsWith(OWN_ROOT));
  const firstOwn = frames.findIndex((f) => !f.file.includes('/node_modules/'));
  return withSourceLines((firstOwn > 0 ? frames.slice(firstOwn) : frames).slice(0, 8).map((f) => mapFrame(f)));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
