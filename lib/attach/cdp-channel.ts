/**
 * The Chrome DevTools Protocol over a WebSocket to another process's inspector: numbered commands
 * with their answers (each bounded by a timeout), and events. `WorkerChannel` speaks to a worker
 * thread of that process through the main thread's `NodeWorker` domain with the same interface.
 */
import { AttachProtocolError, AttachTimeoutError } from './errors.js';
import { WebSocketClient } from './websocket-client.js';

// Protocol payloads are JSON from another process: callers read the fields they need.
// biome-ignore lint/suspicious/noExplicitAny: DevTools protocol messages are untyped JSON; each caller reads the fields of the command it sent
export type CdpParams = any;
export type CdpEventHandler = (params: CdpParams) => void;

/** Default bound on one command's answer. */
export const COMMAND_TIMEOUT_MS = 10_000;

interface PendingCommand {
  method: string;
  resolve(result: CdpParams): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export abstract class CdpChannel {
  readonly pid: number;
  /** `main thread` or `worker <id> (<title>)`, for messages. */
  readonly label: string;
  #nextId = 1;
  readonly #pending = new Map<number, PendingCommand>();
  readonly #listeners = new Map<string, Set<CdpEventHandler>>();
  #closedBecause: Error | undefined;

  constructor(pid: number, label: string) {
    this.pid = pid;
    this.label = label;
  }

  get closed(): boolean {
    return this.#closedBecause !== undefined;
  }

  /** Send a command; resolves with its result, rejects with a typed error on an error answer, a broken connection or `timeoutMs`. */
  send(method: string, params: object = {}, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CdpParams> {
    if (this.#closedBecause) return Promise.reject(this.#closedBecause);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AttachTimeoutError(this.pid, `did not answer ${method} on its ${this.label}`, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      try {
        this.post(JSON.stringify({ id, method, params }));
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(
          new AttachProtocolError(
            `hangwatch: cannot send ${method} to process ${this.pid}: ${(err as Error).message}`,
            { cause: err },
          ),
        );
      }
    });
  }

  /** Send a command whose answer does not matter (cleanup); never rejects. */
  sendQuietly(method: string, params: object = {}, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CdpParams | undefined> {
    return this.send(method, params, timeoutMs).catch(() => undefined);
  }

  /** Listen to an event; returns the function that stops listening. */
  on(event: string, handler: CdpEventHandler): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** The next `event` (for which `accept` holds), or undefined after `timeoutMs` or when the channel closes. */
  next(
    event: string,
    timeoutMs: number,
    accept: (params: CdpParams) => boolean = () => true,
  ): Promise<CdpParams | undefined> {
    return new Promise((resolve) => {
      const finish = (value: CdpParams | undefined): void => {
        clearTimeout(timer);
        off();
        offClose();
        resolve(value);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const off = this.on(event, (params) => {
        if (accept(params)) finish(params);
      });
      const offClose = this.on('hangwatch.closed', () => finish(undefined));
    });
  }

  protected abstract post(text: string): void;

  /** Hand over one message received from the other side. */
  protected dispatch(text: string): void {
    let message: { id?: number; method?: string; params?: CdpParams; result?: CdpParams; error?: { message?: string } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error)
        pending.reject(
          new AttachProtocolError(
            `hangwatch: ${pending.method} failed in process ${this.pid}: ${message.error.message ?? 'error'}`,
          ),
        );
      else pending.resolve(message.result ?? {});
      return;
    }
    if (typeof message.method === 'string') this.emit(message.method, message.params ?? {});
  }

  protected emit(event: string, params: CdpParams): void {
    for (const handler of [...(this.#listeners.get(event) ?? [])]) {
      try {
        handler(params);
      } catch {
        // a listener's failure must not stop the dispatch of others
      }
    }
  }

  /** Fail every outstanding command; later sends reject at once. */
  protected shutDown(reason: Error): void {
    if (this.#closedBecause) return;
    this.#closedBecause = reason;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(reason);
      this.#pending.delete(id);
    }
    this.emit('hangwatch.closed', {});
  }
}

/** The target's main thread, over the WebSocket of its inspector. */
export class InspectorConnection extends CdpChannel {
  #socket: WebSocketClient | undefined;

  private constructor(pid: number) {
    super(pid, 'main thread');
  }

  static async open(pid: number, url: string, timeoutMs: number): Promise<InspectorConnection> {
    const connection = new InspectorConnection(pid);
    connection.#socket = await WebSocketClient.connect(
      url,
      {
        onMessage: (text) => connection.dispatch(text),
        onClose: (error) =>
          connection.shutDown(
            new AttachProtocolError(
              `hangwatch: the inspector connection to process ${pid} closed${error ? `: ${error.message}` : ''}`,
            ),
          ),
      },
      timeoutMs,
    );
    return connection;
  }

  protected post(text: string): void {
    if (!this.#socket) throw new Error('not connected');
    this.#socket.send(text);
  }

  /** End the connection; idempotent. */
  close(): void {
    this.#socket?.close();
    this.shutDown(
      new AttachProtocolError(`hangwatch: the inspector connection to process ${this.pid} was closed by hangwatch`),
    );
  }
}

/** A worker thread of the target, reached through `NodeWorker.sendMessageToWorker` on the main thread's connection. */
export class WorkerChannel extends CdpChannel {
  readonly #parent: CdpChannel;
  readonly sessionId: string;
  readonly #off: () => void;

  constructor(parent: CdpChannel, sessionId: string, label: string) {
    super(parent.pid, label);
    this.#parent = parent;
    this.sessionId = sessionId;
    const offMessage = parent.on(
      'NodeWorker.receivedMessageFromWorker',
      (p: { sessionId?: string; message?: string }) => {
        if (p.sessionId === sessionId && typeof p.message === 'string') this.dispatch(p.message);
      },
    );
    const offDetach = parent.on('NodeWorker.detachedFromWorker', (p: { sessionId?: string }) => {
      if (p.sessionId === sessionId)
        this.shutDown(new AttachProtocolError(`hangwatch: ${label} of process ${parent.pid} went away`));
    });
    const offClose = parent.on('hangwatch.closed', () =>
      this.shutDown(new AttachProtocolError(`hangwatch: the inspector connection to process ${parent.pid} closed`)),
    );
    this.#off = () => {
      offMessage();
      offDetach();
      offClose();
    };
  }

  protected post(text: string): void {
    this.#parent.send('NodeWorker.sendMessageToWorker', { sessionId: this.sessionId, message: text }).catch(() => {
      // the command's own timeout reports it
    });
  }

  /** Stop listening to the parent (the session itself is detached by the caller). */
  dispose(): void {
    this.#off();
    this.shutDown(new AttachProtocolError(`hangwatch: ${this.label} of process ${this.pid}: session ended`));
  }
}
