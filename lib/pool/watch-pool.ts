/**
 * `watchPool(pool, { name })`: who holds the resources of a connection pool. For every resource
 * checked out it keeps the operation that acquired it (hang operation or request: name, route,
 * request id), where (the caller's stack) and since when; a hang report of an operation waiting
 * on the pool lists the holders and flags those whose operation already ended — the leak.
 */
import { InvalidOptionError } from '../errors.js';
import { carryContextForEveryOperation } from '../hang/context-carrying.js';
import type { Operation } from '../hang/operation.js';
import { addReportExtra } from '../hang/report-extras.js';
import type { HangReport, PoolCounts, PoolHolder, PoolWait } from '../report/hang-report.js';
import { booleanOption, optionalObject, optionKeys, stringOption } from '../validate.js';
import { PoolAlreadyWatchedError, UnknownPoolError } from './errors.js';
import { adapterFor, type PoolAdapter } from './pool-adapter.js';
import { PoolWatcher } from './pool-watcher.js';

export interface WatchPoolOptions {
  /** The pool's name in reports and metrics (default `'pool'`). */
  name?: string;
  /**
   * Capture each acquisition's stack, to name the acquire site (default true). It is most of
   * watchPool's cost per acquisition (~2–4 µs of CPU): turn it off for a pool acquired from at a
   * very high rate — holders then have their operation and age but no site.
   */
  acquireStacks?: boolean;
  /** For a pool that is not a `pg.Pool`, a generic-pool pool or a mysql2 pool: how to acquire and release. */
  adapter?: PoolAdapter;
}

/** What `watchPool` returns. */
export interface PoolWatch {
  readonly name: string;
  /** `pg.Pool`, `generic-pool`, `mysql2`, `mysql2/promise`, or the adapter's kind. */
  readonly kind: string;
  /** The pool's counts now. */
  counts(): PoolCounts;
  /** Who holds the pool's resources now, those whose operation already ended first. */
  holders(): PoolHolder[];
  /** Stop watching: the pool's methods are put back. Later calls do nothing. */
  stop(): void;
}

const WATCH_POOL_KEYS = optionKeys<WatchPoolOptions>({ name: true, acquireStacks: true, adapter: true });
const watched = new Map<object, PoolWatcher>();

/**
 * Watch `pool` (a `pg.Pool`, a generic-pool pool, a mysql2 pool — callback or promise API — or
 * any pool described by `adapter`). From now
 * on every hang operation carries its context (see docs/stories.md for the cost), so that the
 * holders of the pool's resources can be named. Throws `UnknownPoolError` for an object it does
 * not recognise, `PoolAlreadyWatchedError` for a pool already watched, `InvalidOptionError` for
 * bad options.
 */
export function watchPool(pool: object, options?: WatchPoolOptions): PoolWatch {
  if (!pool || (typeof pool !== 'object' && typeof pool !== 'function'))
    throw new InvalidOptionError('pool', 'a pool object', pool);
  const o = optionalObject<WatchPoolOptions>('options', options, WATCH_POOL_KEYS);
  const name = stringOption('name', o.name, 'pool');
  const acquireStacks = booleanOption('acquireStacks', o.acquireStacks, true);
  const adapter = adapterFor(pool, o.adapter);
  if (!adapter) throw new UnknownPoolError(describe(pool));
  // A mysql2/promise pool is watched through the callback pool inside it: both are one pool.
  const target = adapter.target?.(pool) ?? pool;
  const existing = watched.get(target);
  if (existing) throw new PoolAlreadyWatchedError(existing.name);
  const watcher = new PoolWatcher(target, name, adapter, acquireStacks);
  watcher.install();
  watched.set(target, watcher);
  const release = carryContextForEveryOperation();
  addReportExtra(addPoolWaits);
  let stopped = false;
  return {
    name,
    kind: adapter.kind,
    counts: () => watcher.counts(),
    holders: () => watcher.listHolders(Date.now(), Infinity),
    stop: () => {
      if (stopped) return;
      stopped = true;
      watcher.uninstall();
      watched.delete(target);
      release();
    },
  };
}

/** The pools being watched, for the Prometheus exporter. */
export function watchedPools(): Iterable<PoolWatcher> {
  return watched.values();
}

/** Report extra: the watched pools the operation waits on. */
function addPoolWaits(op: Operation, report: HangReport, now: number): void {
  let waits: PoolWait[] | undefined;
  for (const watcher of watched.values()) {
    const wait = watcher.waitOf(op, now);
    if (wait) (waits ??= []).push(wait);
  }
  if (waits) report.pools = waits;
}

function describe(pool: object): string {
  const ctor = (pool as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof ctor === 'string' && ctor ? `an object of class ${ctor}` : 'this object';
}
