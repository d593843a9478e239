/**
 * Typed errors of the `hangwatch` command line. Codes are stable; messages are for humans.
 */
import { HangwatchError } from '../errors.js';

/**
 * The command line is wrong: an unknown option, a missing or bad value, a missing argument. The
 * dispatcher (main.ts) prints the message with the command's usage on stderr and exits 2.
 */
export class UsageError extends HangwatchError {
  declare readonly code: 'ERR_USAGE';
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}
