/**
 * Fastify plugin (`hangwatch/fastify`): every request runs under hang detection from its
 * `onRequest` hook until the response is closed, with its route's deadline; a stuck request gives
 * a hang report naming the method, the route pattern, the correlation id and — with
 * `asyncTrace` — what it waits on.
 *
 * ```ts
 * import { hangwatchFastify } from 'hangwatch/fastify';
 * await app.register(hangwatchFastify, { timeoutMs: 5000, asyncTrace: true });
 * app.get('/export', { config: { hangwatch: { timeoutMs: 60000 } } }, handler);
 * ```
 *
 * A route's `config.hangwatch.timeoutMs` beats the plugin's `routes`/`timeoutFor`; `0` turns
 * detection off for the route. Fastify is an optional peer dependency (types only here).
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { HangError } from '../hang/hang-error.js';
import type { HangContext } from '../hang/hang-options.js';
import { pathOf, RequestHangConfig, timeoutBody, type RequestHangOptions } from './request-hang-options.js';

export type { RequestHangOptions, RequestInfo } from './request-hang-options.js';

/** Per-route settings under a route's `config.hangwatch`. */
export interface FastifyRouteHangConfig {
  timeoutMs?: number;
}

/** `app.hangwatch` after registration. */
export interface HangwatchFastifyControl {
  /** Change the `asyncTrace` option at run time: `true`/`false` or a rate in [0, 1]. */
  setAsyncTraceRate(rate: boolean | number): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    hangwatch: HangwatchFastifyControl;
  }
}

function routeTimeout(request: FastifyRequest): number | undefined {
  const cfg = (request.routeOptions?.config as { hangwatch?: FastifyRouteHangConfig } | undefined)?.hangwatch;
  const t = cfg?.timeoutMs;
  return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : undefined;
}

function plugin(fastify: FastifyInstance, options: RequestHangOptions, done: (err?: Error) => void): void {
  let config: RequestHangConfig;
  try {
    // Fastify passes its own registration keys (prefix, ...) along with ours.
    const { prefix: _prefix, logLevel: _logLevel, logSerializers: _ls, ...own } = (options ?? {}) as RequestHangOptions & Record<string, unknown>;
    config = new RequestHangConfig(own);
  } catch (err) {
    done(err as Error);
    return;
  }
  const header = config.requestIdHeader;
  if (!fastify.hasDecorator('hangwatch')) {
    const control: HangwatchFastifyControl = { setAsyncTraceRate: (rate) => config.setAsyncTraceRate(rate) };
    fastify.decorate('hangwatch', control);
  }
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) => {
    const method = request.method;
    const path = pathOf(request.url);
    const route = request.routeOptions?.url;
    const requestId = config.requestIdOf(request.headers[header]);
    reply.header(header, requestId);
    const timeoutMs = routeTimeout(request) ?? config.timeoutOf({ method, path, route });
    if (timeoutMs === 0) {
      next();
      return;
    }
    const context: HangContext = { method, route: route ?? '(unmatched)', path, requestId };
    config.addExtraContext(context, request.raw);
    config
      .detectorFor(timeoutMs)(
        () => {
          const ended = new Promise<void>((resolve) => reply.raw.once('close', resolve));
          next();
          return ended;
        },
        `${method} ${route ?? path}`,
        context,
      )
      .then(undefined, (err: unknown) => {
        if (!(err instanceof HangError) || reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
        reply.code(503).header('connection', 'close').send(timeoutBody(requestId, timeoutMs));
      });
  });
  done();
}

// Hooks must apply to the whole app, not only to an encapsulated child context (fastify-plugin's job).
Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: 'hangwatch' });

export const hangwatchFastify: FastifyPluginCallback<RequestHangOptions> = plugin as FastifyPluginCallback<RequestHangOptions>;
export default hangwatchFastify;
