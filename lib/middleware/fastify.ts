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
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { InvalidOptionError } from '../errors.js';
import type { HangError } from '../hang/errors.js';
import { pathOf, RequestHangConfig, timeoutBody, type RequestHangOptions } from './request-hang-options.js';
import { endWithResponse, RequestOperation } from './request-operation.js';

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

function routeTimeout(config: unknown): number | undefined {
  const t = (config as { hangwatch?: FastifyRouteHangConfig } | undefined)?.hangwatch?.timeoutMs;
  return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : undefined;
}

/** A Fastify request under detection; Fastify knows its route pattern when the request starts. */
class FastifyRequestOperation extends RequestOperation {
  constructor(
    readonly reply: FastifyReply,
    readonly routePattern: string | undefined,
    method: string,
    url: string,
    requestId: string,
  ) {
    super(method, url, requestId);
  }

  route(): string {
    return this.routePattern ?? '(unmatched)';
  }

  override hangName(): string {
    return `${this.method} ${this.routePattern ?? pathOf(this.url)}`;
  }

  /** Action `reject`: answer 503 if nothing was sent yet. */
  onHangTimeout(error: HangError): void {
    const reply = this.reply;
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
    reply.code(503).header('connection', 'close').send(timeoutBody(this.requestId, error.report.timeoutMs));
  }
}

function plugin(fastify: FastifyInstance, options: RequestHangOptions, done: (err?: Error) => void): void {
  if (fastify === null || typeof fastify !== 'object' || typeof fastify.hasDecorator !== 'function') {
    throw new InvalidOptionError('fastify', 'a Fastify instance (register the plugin with fastify.register)', fastify);
  }
  let config: RequestHangConfig;
  try {
    // Fastify passes its own registration keys (prefix, ...) along with ours.
    const {
      prefix: _prefix,
      logLevel: _logLevel,
      logSerializers: _ls,
      ...own
    } = (options ?? {}) as RequestHangOptions & Record<string, unknown>;
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
    const requestId = config.requestIdOf(request.headers[header]);
    reply.header(header, requestId);
    // A getter that builds an object: read once.
    const routeOptions = request.routeOptions;
    const route = routeOptions?.url;
    const method = request.method;
    const url = request.url;
    const timeoutMs =
      routeTimeout(routeOptions?.config) ??
      (config.perRequestTimeout ? config.timeoutOf({ method, path: pathOf(url), route }) : config.defaultTimeoutMs);
    if (timeoutMs === 0) {
      next();
      return;
    }
    const operation = new FastifyRequestOperation(reply, route, method, url, requestId);
    if (config.hasExtraContext) operation.extra = config.extraContextOf(request.raw);
    const op = config.begin(timeoutMs, operation);
    endWithResponse(op, reply.raw);
    op.run(next);
  });
  done();
}

// Hooks must apply to the whole app, not only to an encapsulated child context (fastify-plugin's job).
Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: 'hangwatch' });

export const hangwatchFastify: FastifyPluginCallback<RequestHangOptions> =
  plugin as FastifyPluginCallback<RequestHangOptions>;
export default hangwatchFastify;
