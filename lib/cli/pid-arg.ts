/** A process id given on the command line: a positive integer, else a `UsageError`. */
import { UsageError } from './errors.js';

export function pidArg(text: string): number {
  const pid = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(pid) || pid <= 0)
    throw new UsageError(`the pid must be a positive integer; got ${JSON.stringify(text)}`);
  return pid;
}
