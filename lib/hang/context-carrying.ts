/**
 * Whether operations carry their context (run as the current operation, `currentOperation()` in
 * operation.ts): operations begun with `steps: true`, and every operation while a pool is watched
 * (`watchPool`). Otherwise they do not, and nothing of the current-operation machinery runs.
 */

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
