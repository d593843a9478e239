/** Errors of `watchPool`. */
import { HangwatchError } from '../errors.js';

/** `watchPool` was given an object that is not a pool it knows (pg.Pool, generic-pool) and no `adapter`. */
export class UnknownPoolError extends HangwatchError {
  declare readonly code: 'ERR_UNKNOWN_POOL';
  constructor(what: string) {
    super(
      'ERR_UNKNOWN_POOL',
      `hangwatch: watchPool() does not recognise ${what} as a pg.Pool or a generic-pool pool; pass { adapter: { acquire, release | resourceRelease, counts } } for another pool`,
    );
  }
}

/** The pool is already watched (by another `watchPool` call not yet stopped). */
export class PoolAlreadyWatchedError extends HangwatchError {
  declare readonly code: 'ERR_POOL_ALREADY_WATCHED';
  constructor(name: string) {
    super('ERR_POOL_ALREADY_WATCHED', `hangwatch: this pool is already watched as "${name}"; stop() that watch first`);
  }
}
