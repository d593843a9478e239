/**
 * A request under hang detection, shared by the Express and Fastify middleware: one small object
 * per request that owns the request's operation. Its name and context (method, route, path,
 * request id) are computed only when a report is made; the operation ends when the response
 * closes (after it finished, or when the client went away), through one listener function
 * shared by all requests.
 */
import type { ServerResponse } from 'node:http';
import type { HangError } from '../hang/hang-error.js';
import type { HangContext, HangContextValue } from '../hang/hang-options.js';
import type { Operation, OperationOwner } from '../hang/operation.js';
import { pathOf } from './request-hang-options.js';

const kRequestOperation = Symbol('hangwatch.requestOperation');

type WatchedResponse = ServerResponse & { [kRequestOperation]?: RequestOperation };

export abstract class RequestOperation implements OperationOwner {
  /** Set by `watch`. */
  op: Operation | undefined;
  /** The operation of another hangwatch middleware on the same response (mounted twice). */
  previous: RequestOperation | undefined;
  /** `extraContext` facts, computed when the request started. */
  extra: HangContext | undefined;

  constructor(
    readonly method: string,
    /** The request's URL when it started (with its query string). */
    readonly url: string | undefined,
    readonly requestId: string,
  ) {}

  /** The route pattern, or `(unmatched)`. */
  abstract route(): string;
  abstract onHangTimeout(error: HangError): void;

  hangName(): string {
    return `${this.method} ${pathOf(this.url)}`;
  }

  hangContext(): HangContext {
    const context: HangContext = { method: this.method, route: this.route(), path: pathOf(this.url), requestId: this.requestId };
    const extra = this.extra;
    if (extra) for (const key of Object.keys(extra)) if (!(key in context)) context[key] = extra[key] as HangContextValue;
    return context;
  }

  /** Own `op` and end it when `res` closes. */
  watch(op: Operation, res: ServerResponse): void {
    this.op = op;
    const r = res as WatchedResponse;
    const previous = r[kRequestOperation];
    if (previous) this.previous = previous;
    else res.on('close', endOnClose);
    r[kRequestOperation] = this;
  }
}

function endOnClose(this: WatchedResponse): void {
  for (let r = this[kRequestOperation]; r; r = r.previous) r.op?.end();
}
