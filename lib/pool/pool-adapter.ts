/**
 * How `watchPool` works with a pool library: which method acquires a resource, how a resource
 * goes back, and how to read the pool's counts. Built in for `pg.Pool`, `generic-pool` and mysql2
 * (`mysql2.createPool` and `mysql2/promise` pools), recognised by their shape; any other pool is
 * described with the `adapter` option.
 */
import { InvalidOptionError } from '../errors.js';
import { functionOption, optionalObject, optionKeys, stringOption } from '../validate.js';

/** Counts a pool reports; `watchPool` fills in what is missing from its own bookkeeping. */
export interface PoolCountsInput {
  size?: number;
  max?: number;
  idle?: number;
  waiting?: number;
}

/** The `adapter` option of `watchPool`: a pool hangwatch does not know. */
export interface PoolAdapter {
  /** Label in reports (default `'custom'`). */
  kind?: string;
  /**
   * The pool's method that acquires a resource: it returns a promise of the resource, or takes a
   * node-style callback `(err, resource)` as its last argument.
   */
  acquire: string;
  /** The pool's methods that take a resource back, called as `pool[method](resource)` (e.g. `['release', 'destroy']`). */
  release?: string[];
  /** The resource's own method that gives it back (`connection.release()`). */
  resourceRelease?: string;
  /** Read the pool's counts (size, max, idle, waiting); a throwing function is ignored. */
  counts?: (pool: never) => PoolCountsInput;
}

/** An adapter resolved for one pool. */
export interface ResolvedPoolAdapter {
  kind: string;
  /**
   * The object whose methods are wrapped and whose counts are read, when it is not the pool
   * passed to `watchPool` (a `mysql2/promise` pool: the callback pool inside it, through which
   * its acquisitions go).
   */
  target?: (pool: object) => object;
  acquire: string;
  release: string[];
  resourceRelease: string | undefined;
  /** Listen to the pool's own release events; returns the function that stops listening. */
  listenReleases?: (pool: object, released: (resource: object) => void) => () => void;
  counts: ((pool: object) => PoolCountsInput) | undefined;
}

interface EventEmitterLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** `pg.Pool` (pg-pool): acquired with `connect()`, given back through its `release`/`remove` events. */
const pgPool: ResolvedPoolAdapter = {
  kind: 'pg.Pool',
  acquire: 'connect',
  release: [],
  resourceRelease: undefined,
  listenReleases(pool, released) {
    const emitter = pool as EventEmitterLike;
    const onRelease = (_err: unknown, client: unknown): void => {
      if (client && typeof client === 'object') released(client);
    };
    const onRemove = (client: unknown): void => {
      if (client && typeof client === 'object') released(client);
    };
    emitter.on('release', onRelease);
    emitter.on('remove', onRemove);
    return () => {
      emitter.removeListener('release', onRelease);
      emitter.removeListener('remove', onRemove);
    };
  },
  counts(pool) {
    const p = pool as { totalCount: number; idleCount: number; waitingCount: number; options?: { max?: unknown } };
    const max = p.options?.max;
    return {
      size: p.totalCount,
      idle: p.idleCount,
      waiting: p.waitingCount,
      ...(typeof max === 'number' ? { max } : {}),
    };
  },
};

/** generic-pool 3: `acquire()` / `release(resource)` / `destroy(resource)`. */
const genericPool: ResolvedPoolAdapter = {
  kind: 'generic-pool',
  acquire: 'acquire',
  release: ['release', 'destroy'],
  resourceRelease: undefined,
  counts(pool) {
    const p = pool as { size: number; available: number; pending: number; max: number };
    return { size: p.size, idle: p.available, waiting: p.pending, max: p.max };
  },
};

interface Mysql2PoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  config?: { connectionLimit?: unknown };
}

/**
 * mysql2's pool (`mysql2.createPool`): `getConnection(cb)` acquires (as `pool.query()` and
 * `pool.execute()` do inside); every way back — `connection.release()`, `destroy()`, a broken
 * connection, the end of a `pool.query()` — goes through `pool.releaseConnection(connection)`.
 * Its counts are its queues: all connections, free ones, queued callbacks; `connectionLimit` 0 is no limit.
 */
const mysql2Pool: ResolvedPoolAdapter = {
  kind: 'mysql2',
  acquire: 'getConnection',
  release: ['releaseConnection'],
  resourceRelease: undefined,
  counts(pool) {
    const p = pool as Mysql2PoolInternals;
    const max = p.config?.connectionLimit;
    return {
      size: p._allConnections.length,
      idle: p._freeConnections.length,
      waiting: p._connectionQueue.length,
      ...(typeof max === 'number' && max > 0 ? { max } : {}),
    };
  },
};

/** A `mysql2/promise` pool (`mysql2/promise`'s `createPool`, `pool.promise()`): a wrapper whose every acquisition goes through the callback pool it holds (`.pool`). */
const mysql2PromisePool: ResolvedPoolAdapter = {
  ...mysql2Pool,
  kind: 'mysql2/promise',
  target: (pool) => (pool as { pool: object }).pool,
};

const ADAPTER_KEYS = optionKeys<PoolAdapter>({
  kind: true,
  acquire: true,
  release: true,
  resourceRelease: true,
  counts: true,
});

function isPgPool(pool: Record<string, unknown>): boolean {
  return (
    typeof pool.connect === 'function' &&
    typeof pool.on === 'function' &&
    'totalCount' in pool &&
    'idleCount' in pool &&
    'waitingCount' in pool
  );
}

function isGenericPool(pool: Record<string, unknown>): boolean {
  return (
    typeof pool.acquire === 'function' &&
    typeof pool.release === 'function' &&
    typeof pool.destroy === 'function' &&
    'borrowed' in pool &&
    'pending' in pool
  );
}

const hasLength = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as { length?: unknown }).length === 'number';

function isMysql2Pool(pool: Record<string, unknown>): boolean {
  return (
    typeof pool.getConnection === 'function' &&
    typeof pool.releaseConnection === 'function' &&
    typeof pool.promise === 'function' &&
    hasLength(pool._allConnections) &&
    hasLength(pool._freeConnections) &&
    hasLength(pool._connectionQueue)
  );
}

function isMysql2PromisePool(pool: Record<string, unknown>): boolean {
  const inner = pool.pool;
  return (
    typeof pool.getConnection === 'function' &&
    typeof inner === 'object' &&
    inner !== null &&
    isMysql2Pool(inner as Record<string, unknown>)
  );
}

/** The adapter for `pool`: the `adapter` option, else a built-in one by the pool's shape, else undefined. */
export function adapterFor(pool: object, option: unknown): ResolvedPoolAdapter | undefined {
  if (option !== undefined) return resolveAdapterOption(pool, option);
  const p = pool as Record<string, unknown>;
  if (isPgPool(p)) return pgPool;
  if (isGenericPool(p)) return genericPool;
  if (isMysql2Pool(p)) return mysql2Pool;
  if (isMysql2PromisePool(p)) return mysql2PromisePool;
  return undefined;
}

function resolveAdapterOption(pool: object, option: unknown): ResolvedPoolAdapter {
  const o = optionalObject<PoolAdapter>('adapter', option, ADAPTER_KEYS);
  const acquire = stringOption('adapter.acquire', o.acquire);
  if (acquire === undefined)
    throw new InvalidOptionError('adapter.acquire', 'the name of the pool method that acquires a resource', o.acquire);
  if (typeof (pool as Record<string, unknown>)[acquire] !== 'function')
    throw new InvalidOptionError('adapter.acquire', 'the name of a method of the pool', acquire);
  const release = o.release ?? [];
  if (
    !Array.isArray(release) ||
    release.some((m) => typeof m !== 'string' || typeof (pool as Record<string, unknown>)[m] !== 'function')
  ) {
    throw new InvalidOptionError('adapter.release', 'an array of names of methods of the pool', o.release);
  }
  const resourceRelease = stringOption('adapter.resourceRelease', o.resourceRelease);
  if (release.length === 0 && resourceRelease === undefined) {
    throw new InvalidOptionError(
      'adapter',
      'an adapter with `release` (pool methods) or `resourceRelease` (the resource method)',
      option,
    );
  }
  const counts = functionOption<(pool: object) => PoolCountsInput>('adapter.counts', o.counts);
  return {
    kind: stringOption('adapter.kind', o.kind, 'custom'),
    acquire,
    release: [...release],
    resourceRelease,
    counts,
  };
}
