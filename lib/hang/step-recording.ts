/**
 * Recording steps on an operation (anything with a step log): what `step()`, `handle.step()` and
 * the automatic steps of outbound requests do once they know the operation.
 */
import { InvalidOptionError } from '../errors.js';
import { StepLog, type StepRecord } from './step-log.js';

/** What holds the steps: an operation (operation.ts). */
export interface StepHost {
  steps: StepLog | undefined;
}

export function checkStep(name: unknown, fn: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', 'a non-empty string', name);
  if (fn !== undefined && typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
}

/** Run `fn` as a step of `op`. */
export function runStep<R>(op: StepHost, name: string, fn: () => R): R {
  const log = (op.steps ??= new StepLog());
  const record = log.begin(name, 'step', Date.now());
  let value: R;
  try {
    value = fn();
  } catch (err) {
    log.end(record, Date.now(), true);
    throw err;
  }
  if (value instanceof Promise) {
    value.then(
      () => log.end(record, Date.now(), false),
      () => log.end(record, Date.now(), true),
    );
    return value;
  }
  if (isThenable(value)) {
    // Calling `then` twice on a non-native thenable may run it twice (query builders): once, here.
    return Promise.resolve(value).then(
      (v) => {
        log.end(record, Date.now(), false);
        return v;
      },
      (err: unknown) => {
        log.end(record, Date.now(), true);
        throw err;
      },
    ) as R;
  }
  log.end(record, Date.now(), false);
  return value;
}

/** `handle.step(name)`: end the step begun by the previous `handle.step(name)` and begin this one. */
export function markStep(op: StepHost, name: string): void {
  const log = (op.steps ??= new StepLog());
  const now = Date.now();
  if (log.marker) log.end(log.marker, now, false);
  log.marker = log.begin(name, 'step', now);
}

/** Begin a step recorded automatically (an outbound HTTP request) in the current operation, if any. */
export function beginAutoStep(op: StepHost, name: string, kind: 'http'): { log: StepLog; record: StepRecord } {
  const log = (op.steps ??= new StepLog());
  return { log, record: log.begin(name, kind, Date.now()) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
