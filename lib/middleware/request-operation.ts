/**
 * A request under hang detection, shared by the Express and Fastify middleware: one small object
 * per request that owns the request's operation. Its name and context (method, route, path,
 * request id) are computed only when a report is made; the operation ends when the response
 * closes (after it finished, or when the client went away).
 */
import type { ServerResponse } from 'node:http';
import type { HangError } from '../hang/errors.js';
import type { HangContext, HangContextValue } from '../hang/hang-options.js';
import type { Operation, OperationOwner } from '../hang/operation.js';
import { pathOf } from './request-hang-options.js';

export abstract class RequestOperation implements OperationOwner {
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
    const context: HangContext = {
      method: this.method,
      route: this.route(),
      path: pathOf(this.url),
      requestId: this.requestId,
    };
    const extra = this.extra;
    if (extra)
      for (const key of Object.keys(extra)) if (!(key in context)) context[key] = extra[key] as HangContextValue;
    return context;
  }
}

/**
 * End `op` when `res` closes. One small closure per request: the listener must find the
 * operation, and a property added to the response instead costs far more — Express changes each
 * response's prototype, and a new property on such an object cost ~2 µs per request (measured).
 */
export function endWithResponse(op: Operation, res: ServerResponse): void {
  res.on('close', () => op.end());
}
