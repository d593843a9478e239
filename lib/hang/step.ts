/**
 * `step(name, fn)`: record a step of the current operation — when it began, how long it took —
 * so that a hang report says which step the operation is stuck in and how long the ones before
 * it took. Outside an operation that records steps it just calls `fn`.
 */
import { writeSync } from 'node:fs';
import { InvalidOptionError } from '../errors.js';
import { contextEverCarried, currentOperation } from './current-operation.js';
import type { Operation } from './operation.js';
import { StepLog, type StepRecord } from './step-log.js';

let warned = false;

/**
 * Run `fn` as a step named `name` of the current operation (an operation begun with
 * `steps: true`, or any operation while a pool is watched) and return its value. A promise
 * returned by `fn` ends the step when it settles; a throw or a rejection marks the step failed
 * (and is passed on unchanged). Throws `InvalidOptionError` for a bad name or function.
 */
export function step<R>(name: string, fn: () => R): R {
  checkStep(name, fn);
  const op = currentOperation();
  if (!op) {
    if (!warned && !contextEverCarried()) warnNoStepRecording(name);
    return fn();
  }
  return runStep(op, name, fn);
}

export function checkStep(name: unknown, fn: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', 'a non-empty string', name);
  if (fn !== undefined && typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
}

/** Run `fn` as a step of `op`. */
export function runStep<R>(op: Operation, name: string, fn: () => R): R {
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
export function markStep(op: Operation, name: string): void {
  const log = (op.steps ??= new StepLog());
  const now = Date.now();
  if (log.marker) log.end(log.marker, now, false);
  log.marker = log.begin(name, 'step', now);
}

/** Begin a step recorded automatically (an outbound HTTP request) in the current operation, if any. */
export function beginAutoStep(op: Operation, name: string, kind: 'http'): { log: StepLog; record: StepRecord } {
  const log = (op.steps ??= new StepLog());
  return { log, record: log.begin(name, kind, Date.now()) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

function warnNoStepRecording(name: string): void {
  warned = true;
  try {
    writeSync(
      2,
      `hangwatch: step(${JSON.stringify(name)}) is not recorded: no operation records steps. Begin operations with { steps: true } ` +
        '(withHangDetection, createHangDetector, the middleware), or watch a pool with watchPool().\n',
    );
  } catch {
    // stderr closed
  }
}
