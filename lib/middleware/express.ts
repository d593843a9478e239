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
import { HangError } from '../hang/hang-error.js';
import type { HangContext } from '../hang/hang-options.js';
import { pathOf, RequestHangConfig, timeoutBody, type RequestHangOptions } from './request-hang-options.js';

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

function routeOf(req: ExpressLikeRequest): string {
  const r = req.route?.path;
  return typeof r === 'string' ? `${req.baseUrl ?? ''}${r}` : '(unmatched)';
}

export function hangwatchExpress(options?: RequestHangOptions): ExpressLikeMiddleware {
  const config = new RequestHangConfig(options);
  const header = config.requestIdHeader;
  const middleware = function hangwatchMiddleware(req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void): void {
    const method = req.method ?? 'GET';
    const path = pathOf(req.originalUrl ?? req.url);
    const requestId = config.requestIdOf(req.headers[header]);
    if (!res.headersSent) res.setHeader(header, requestId);
    const timeoutMs = config.timeoutOf({ method, path });
    if (timeoutMs === 0) {
      next();
      return;
    }
    // `route` is read when a report is made: by then Express has matched the route.
    const context: HangContext = { method, route: () => routeOf(req), path, requestId };
    config.addExtraContext(context, req);
    const detect = config.detectorFor(timeoutMs);
    detect(
      () => {
        const ended = new Promise<void>((resolve) => res.once('close', resolve));
        next();
        return ended;
      },
      `${method} ${path}`,
      context,
    ).then(undefined, (err: unknown) => {
      if (!(err instanceof HangError) || res.headersSent || res.destroyed) return;
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('connection', 'close');
      res.end(JSON.stringify(timeoutBody(requestId, timeoutMs)));
    });
  } as ExpressLikeMiddleware;
  middleware.setAsyncTraceRate = (rate) => config.setAsyncTraceRate(rate);
  return middleware;
}
