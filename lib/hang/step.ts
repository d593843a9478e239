/**
 * `step(name, fn)`: record a step of the current operation — when it began, how long it took —
 * so that a hang report says which step the operation is stuck in and how long the ones before
 * it took. Outside an operation that records steps it just calls `fn`.
 */
import { writeSync } from 'node:fs';
import { contextEverCarried, currentOperation } from './operation.js';
import { checkStep, runStep } from './step-recording.js';

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
