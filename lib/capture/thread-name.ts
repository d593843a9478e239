/**
 * The name of this thread as `new Worker(…, { name })` gave it: `worker_threads.threadName` where
 * Node has it (22.? and 24), undefined on the main thread, for an unnamed worker, or on Node 20
 * (there the watchdog learns a blocked worker's name from its inspector title instead).
 */
import * as workerThreads from 'node:worker_threads';

export function currentThreadName(): string | undefined {
  if (workerThreads.isMainThread) return undefined;
  const name = (workerThreads as { threadName?: unknown }).threadName;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
