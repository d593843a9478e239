/**
 * Typed errors of attaching to a running process (`hangwatch dump`, `heap snapshot <pid>`,
 * `cpu --pid`). Codes are stable; messages are one line for humans. A missing process is the
 * shared `ProcessNotFoundError` (`ERR_PROCESS_NOT_FOUND`) of lib/process/errors.ts.
 */
import { HangwatchError, type HangwatchErrorOptions } from '../errors.js';

/** Attaching needs SIGUSR1, which Windows does not have. */
export class AttachUnsupportedPlatformError extends HangwatchError {
  declare readonly code: 'ERR_ATTACH_UNSUPPORTED_PLATFORM';
  constructor(platform: string) {
    super(
      'ERR_ATTACH_UNSUPPORTED_PLATFORM',
      `hangwatch: attaching to a running process needs SIGUSR1, which ${platform} does not have (Linux and macOS only)`,
    );
  }
}

/** The pid is not a Node.js process, or one that does not handle SIGUSR1 (sending it would kill it). */
export class NotNodeProcessError extends HangwatchError {
  declare readonly code: 'ERR_NOT_NODE_PROCESS';
  readonly pid: number;
  constructor(pid: number, why: string) {
    super('ERR_NOT_NODE_PROCESS', `hangwatch: process ${pid} is not a Node.js process hangwatch can attach to: ${why}`);
    this.pid = pid;
  }
}

/** The signal or `/proc` was refused: the process belongs to another user (use the same user or root). */
export class AttachPermissionError extends HangwatchError {
  declare readonly code: 'ERR_ATTACH_PERMISSION_DENIED';
  readonly pid: number;
  constructor(pid: number, what: string, options: HangwatchErrorOptions = {}) {
    super(
      'ERR_ATTACH_PERMISSION_DENIED',
      `hangwatch: permission denied to ${what} of process ${pid} (run as the same user as the process, or as root)`,
      options,
    );
    this.pid = pid;
  }
}

/** The target's inspector did not open, or refused hangwatch's connection. */
export class InspectorRefusedError extends HangwatchError {
  declare readonly code: 'ERR_INSPECTOR_REFUSED';
  readonly pid: number;
  constructor(pid: number, why: string, options: HangwatchErrorOptions = {}) {
    super('ERR_INSPECTOR_REFUSED', `hangwatch: the inspector of process ${pid} ${why}`, options);
    this.pid = pid;
  }
}

/** The target's inspector port is held by another process, so SIGUSR1 could not open it. */
export class InspectorPortTakenError extends HangwatchError {
  declare readonly code: 'ERR_INSPECTOR_PORT_TAKEN';
  readonly pid: number;
  readonly port: number;
  constructor(pid: number, port: number) {
    super(
      'ERR_INSPECTOR_PORT_TAKEN',
      `hangwatch: process ${pid} could not open its inspector: port ${port} is taken by another process (start the target with --inspect-port=0, or free the port)`,
    );
    this.pid = pid;
    this.port = port;
  }
}

/** A debugger client is already connected to the target: hangwatch refuses to interfere with it. */
export class DebuggerAttachedError extends HangwatchError {
  declare readonly code: 'ERR_DEBUGGER_ATTACHED';
  readonly pid: number;
  constructor(pid: number, port: number) {
    super(
      'ERR_DEBUGGER_ATTACHED',
      `hangwatch: process ${pid} already has a debugger attached to its inspector on port ${port}; detach it first`,
    );
    this.pid = pid;
  }
}

/** The target did not answer in time (usually: its main thread is inside a long native call). */
export class AttachTimeoutError extends HangwatchError {
  declare readonly code: 'ERR_ATTACH_TIMEOUT';
  readonly pid: number;
  readonly waitedMs: number;
  constructor(pid: number, what: string, waitedMs: number) {
    super('ERR_ATTACH_TIMEOUT', `hangwatch: process ${pid} ${what} within ${Math.round(waitedMs)} ms`);
    this.pid = pid;
    this.waitedMs = waitedMs;
  }
}

/** The connection to the target's inspector broke, or the inspector answered a command with an error. */
export class AttachProtocolError extends HangwatchError {
  declare readonly code: 'ERR_ATTACH_PROTOCOL';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_ATTACH_PROTOCOL', message, options);
  }
}

/** hangwatch got SIGINT/SIGTERM while attached; the target was resumed and left as it was. */
export class AttachInterruptedError extends HangwatchError {
  declare readonly code: 'ERR_ATTACH_INTERRUPTED';
  constructor(pid: number) {
    super(
      'ERR_ATTACH_INTERRUPTED',
      `hangwatch: interrupted while attached to process ${pid}; it was resumed and its inspector closed as before`,
    );
  }
}
