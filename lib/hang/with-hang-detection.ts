/**
 * `withHangDetection(fn, options)`: run `fn` with a deadline; at the deadline report why it is
 * hung — the blocked main thread's stack, or what it is waiting on — and act (report, reject,
 * abort, exit). The per-call cost without `asyncTrace` is one small object, one list append
 * and one list removal: no timer, no message to the watchdog.
 */
import { InvalidOptionError } from '../errors.js';
import { openScope } from './async-trace.js';
import { recordHttpSteps } from './auto-steps.js';
import { carriesContext } from './context-carrying.js';
import { resolveHangOptions, type HangContext, type HangOptions, type ResolvedHangOptions } from './hang-options.js';
import { getHangRuntime } from './hang-runtime.js';
import { Operation, type HangHandle, type OperationOwner } from './operation.js';

export type HangFunction<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** What `createHangDetector` returns: run functions under detection, or begin operations ended by hand. */
export interface HangDetector {
  <T>(fn: HangFunction<T>, name?: string, context?: HangContext): Promise<Awaited<T>>;
  /**
   * Begin an operation that `handle.end()` ends — for work that is not one function call or one
   * promise. The deadline, report, repeat and exit work as for a function; at the deadline,
   * `reject` and `abort` both end the operation and abort `handle.signal` with the `HangError`.
   */
  begin(name?: string, context?: HangContext): HangHandle;
}

/**
 * Run `fn` under hang detection. `fn` may be sync or async; it receives an `AbortSignal` that is
 * aborted with the `HangError` when `action` is `'abort'` (the signal is created only when `fn`
 * declares a parameter). Throws `InvalidOptionError` synchronously for bad arguments.
 */
export function withHangDetection<T>(fn: HangFunction<T>, options?: HangOptions): Promise<Awaited<T>> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
  return runOperation(fn, resolveHangOptions(options));
}

/**
 * Validate options once and get a function that runs operations with them — for hot paths
 * (per-request middleware) where re-validating options on every call would be wasted work.
 */
export function createHangDetector(options?: HangOptions): HangDetector {
  const config = resolveHangOptions(options);
  const detector = <T>(fn: HangFunction<T>, name?: string, context?: HangContext): Promise<Awaited<T>> => {
    if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
    checkNameAndContext(name, context);
    return runOperation(fn, config, name, context);
  };
  detector.begin = (name?: string, context?: HangContext): HangHandle => {
    checkNameAndContext(name, context);
    const op = beginOperation(config, name ?? config.name ?? 'anonymous', context, undefined);
    op.isHandle = true;
    return op;
  };
  return detector;
}

function checkNameAndContext(name: unknown, context: unknown): void {
  if (name !== undefined && typeof name !== 'string') throw new InvalidOptionError('name', 'a string', name);
  if (context !== undefined && (context === null || typeof context !== 'object'))
    throw new InvalidOptionError('context', 'an object', context);
}

/**
 * Start an operation: its deadline, and its trace scope with `asyncTrace`. No validation: for
 * callers that resolved the options themselves (the request middleware, with an `owner`).
 */
export function beginOperation(
  config: ResolvedHangOptions,
  name: string,
  context: HangContext | undefined,
  owner: OperationOwner | undefined,
): Operation {
  const now = Date.now();
  const op = new Operation(config, name, now);
  if (context) op.context = context;
  if (owner) op.owner = owner;
  if (config.asyncTrace) op.scope = openScope();
  if (carriesContext(config.steps)) {
    op.carriesContext = true;
    recordHttpSteps();
  }
  getHangRuntime().start(op, now);
  return op;
}

/**
 * Decorate a function once: every call of the returned function runs under hang detection with
 * these options and returns a promise. Arguments are passed through unchanged.
 */
export function wrapWithHangDetection<A extends unknown[], R>(
  fn: (...args: A) => R,
  options?: HangOptions,
): (...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
  const config = resolveHangOptions(options);
  const name = config.name ?? (fn.name || 'anonymous');
  const wrapped = function (this: unknown, ...args: A): Promise<Awaited<R>> {
    return runOperation<Awaited<R>>(() => fn.apply(this, args) as Awaited<R> | PromiseLike<Awaited<R>>, config, name);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  return wrapped;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function runOperation<T>(
  fn: HangFunction<T>,
  config: ResolvedHangOptions,
  name?: string,
  context?: HangContext,
): Promise<Awaited<T>> {
  const runtime = getHangRuntime();
  const op = beginOperation(config, name ?? config.name ?? (fn.name || 'anonymous'), context, undefined);
  if (fn.length > 0) op.controller = new AbortController();
  let value: T | PromiseLike<T>;
  try {
    const signal = op.controller?.signal as AbortSignal;
    value = op.scope || op.carriesContext ? op.run(() => fn(signal)) : fn(signal);
  } catch (err) {
    const hang = runtime.finish(op);
    if (hang && err !== undefined)
      Object.defineProperty(hang, 'cause', { value: err, configurable: true, writable: true });
    return Promise.reject(hang ?? err);
  }
  if (!isPromiseLike(value)) {
    const hang = runtime.finish(op);
    return hang ? Promise.reject(hang) : Promise.resolve(value as Awaited<T>);
  }
  if (config.action === 'report' || config.action === 'exit') {
    return Promise.resolve(value).then(
      (v) => {
        runtime.finish(op);
        return v as Awaited<T>;
      },
      (err: unknown) => {
        runtime.finish(op);
        throw err;
      },
    );
  }
  return new Promise<Awaited<T>>((resolve, reject) => {
    op.reject = reject;
    Promise.resolve(value).then(
      (v) => {
        const hang = runtime.finish(op);
        if (hang) reject(hang);
        else resolve(v as Awaited<T>);
      },
      (err: unknown) => {
        const hang = runtime.finish(op);
        reject(hang ?? err);
      },
    );
  });
}
