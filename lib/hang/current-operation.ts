/**
 * Which hang operation the running code belongs to, for the facts recorded while it runs —
 * its steps (`step()`, outbound HTTP requests) and the pool resources it acquires
 * (`watchPool`). An AsyncLocalStorage that operations enter only when something needs it:
 * operations begun with `steps: true`, and every operation once a pool is watched. Otherwise
 * nothing here runs, and `currentOperation()` is one undefined check.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Operation } from './operation.js';

let storage: AsyncLocalStorage<Operation> | undefined;
/** Set while at least one pool is watched: every operation carries its context. */
let everyOperation = 0;

/** Whether operations with these options must run as the current operation. */
export function carriesContext(steps: boolean): boolean {
  return steps || everyOperation > 0;
}

/** Make every operation begun from now on carry its context (a pool is watched); undo with the returned function. */
export function carryContextForEveryOperation(): () => void {
  everyOperation++;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    everyOperation--;
  };
}

/** Run `fn` with `op` as the current operation (its continuations too). */
export function runAsCurrent<R>(op: Operation, fn: () => R): R {
  storage ??= new AsyncLocalStorage<Operation>();
  return storage.run(op, fn);
}

/** The operation the running code belongs to, if it carries its context and has not ended. */
export function currentOperation(): Operation | undefined {
  if (!storage) return undefined;
  const op = storage.getStore();
  return op && !op.settled ? op : undefined;
}

/** Whether any operation has ever carried its context (used to warn about a `step()` that cannot be recorded). */
export function contextEverCarried(): boolean {
  return storage !== undefined;
}
