/**
 * Express middleware (`hangwatch/express`): every request runs under hang detection with its
 * route's deadline; a stuck request gives a hang report naming the method, the route pattern,
 * the correlation id and — with `asyncTrace` — what it waits on.
 *
 * ```ts
 * import { hangwatchExpress } from 'hangwatch/express';
 * app.use(hangwatchExpress({ timeoutMs: 5000, routes: { 'GET /reports/*': 60000 }, asyncTrace: true }));
 * ```
 *
 * Mount it first. Express is an optional peer dependency; this module needs only its calling
 * convention `(req, res, next)`, so it imports nothing from it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HangError } from '../hang/errors.js';
import { pathOf, RequestHangConfig, timeoutBody, type RequestHangOptions } from './request-hang-options.js';
import { endWithResponse, RequestOperation } from './request-operation.js';

export type { RequestHangOptions, RequestInfo } from './request-hang-options.js';

/** The parts of Express's request the middleware reads (`route`/`baseUrl` once routed). */
export interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown } | undefined;
}

export interface ExpressLikeMiddleware {
  (req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void): void;
  /** Change the `asyncTrace` option at run time: `true`/`false` or a rate in [0, 1]. */
  setAsyncTraceRate(rate: boolean | number): void;
}

/** An Express request under detection; its route is read when a report is made (Express has matched it by then). */
class ExpressRequestOperation extends RequestOperation {
  constructor(
    readonly req: ExpressLikeRequest,
    readonly res: ServerResponse,
    url: string | undefined,
    requestId: string,
  ) {
    super(req.method ?? 'GET', url, requestId);
  }

  route(): string {
    const r = this.req.route?.path;
    return typeof r === 'string' ? `${this.req.baseUrl ?? ''}${r}` : '(unmatched)';
  }

  /** Action `reject`: answer 503 if nothing was sent yet. */
  onHangTimeout(error: HangError): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    res.statusCode = 503;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('connection', 'close');
    res.end(JSON.stringify(timeoutBody(this.requestId, error.report.timeoutMs)));
  }
}

export function hangwatchExpress(options?: RequestHangOptions): ExpressLikeMiddleware {
  const config = new RequestHangConfig(options);
  const header = config.requestIdHeader;
  const middleware = function hangwatchMiddleware(
    req: ExpressLikeRequest,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const requestId = config.requestIdOf(req.headers[header]);
    if (!res.headersSent) res.setHeader(header, requestId);
    const url = req.originalUrl ?? req.url;
    const timeoutMs = config.perRequestTimeout
      ? config.timeoutOf({ method: req.method ?? 'GET', path: pathOf(url) })
      : config.defaultTimeoutMs;
    if (timeoutMs === 0) {
      next();
      return;
    }
    const request = new ExpressRequestOperation(req, res, url, requestId);
    if (config.hasExtraContext) request.extra = config.extraContextOf(req);
    const op = config.begin(timeoutMs, request);
    endWithResponse(op, res);
    op.run(next);
  } as ExpressLikeMiddleware;
  middleware.setAsyncTraceRate = (rate) => config.setAsyncTraceRate(rate);
  return middleware;
}
