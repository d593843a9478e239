/**
 * A `node:inspector` session connected to the current thread (main thread or worker), with a
 * synchronous `post`. For an in-thread session Node dispatches the message and delivers the reply
 * before `post` returns, which lets the profiling APIs be synchronous where Python's are
 * (tracemalloc) and keeps every call free of event-loop turns. Inspector failures become typed
 * errors; nothing here throws anything else.
 */
import inspector from 'node:inspector';
import { InspectorCommandError } from '../lib/capture/errors.js';
import { InspectorUnavailableError } from '../lib/errors.js';

/**
 * Whether a profile frame is `node:inspector`'s `post` called from this file — i.e. hangwatch
 * talking to the inspector (starting, stopping or reading a profile). Profiles use it to leave the
 * profiler's own work out.
 */
export function isOwnInspectorPost(
  frame: { url: string; functionName: string },
  caller: { url: string } | undefined,
): boolean {
  return (
    frame.url === 'node:inspector' &&
    frame.functionName === 'post' &&
    caller !== undefined &&
    /inspector-session\.[cm]?[jt]s$/.test(caller.url)
  );
}

export class InspectorSession {
  #session: inspector.Session | undefined;

  /** Connect a new session to this thread. Throws `InspectorUnavailableError` if that is not possible. */
  constructor() {
    try {
      const session = new inspector.Session();
      session.connect();
      this.#session = session;
    } catch (err) {
      throw new InspectorUnavailableError('hangwatch: cannot connect an inspector session to this thread', {
        cause: err,
      });
    }
  }

  get connected(): boolean {
    return this.#session !== undefined;
  }

  /**
   * Send a protocol command and return its result. Throws `InspectorCommandError` when the
   * inspector answers with an error, `InspectorUnavailableError` when the session is closed.
   */
  post<T = unknown>(method: string, params?: object): T {
    const session = this.#session;
    if (!session) throw new InspectorUnavailableError(`hangwatch: inspector session closed before ${method}`);
    let done = false;
    let error: unknown;
    let result: unknown;
    const callback = (err: Error | null, res?: unknown): void => {
      done = true;
      error = err;
      result = res;
    };
    try {
      if (params === undefined) session.post(method, callback);
      else session.post(method, params, callback);
    } catch (err) {
      throw new InspectorCommandError(method, err);
    }
    if (!done) {
      // Only happens for a session that is not in-thread; we never create one.
      throw new InspectorUnavailableError(`hangwatch: inspector did not answer ${method} synchronously`);
    }
    if (error) throw new InspectorCommandError(method, error);
    return result as T;
  }

  /** Disconnect; idempotent and never throws. */
  disconnect(): void {
    const session = this.#session;
    this.#session = undefined;
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
  }
}
