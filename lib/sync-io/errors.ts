/** Typed errors of synchronous-I/O tracing. Codes are stable; messages are for humans. */
import { HangwatchError } from '../errors.js';

/** Tracing is already on in this process (one tracer at a time), or this is not the main thread. */
export class SyncIoTracingError extends HangwatchError {
  declare readonly code: 'ERR_SYNC_IO_TRACING';
  constructor(message: string) {
    super('ERR_SYNC_IO_TRACING', `hangwatch: ${message}`);
  }
}
