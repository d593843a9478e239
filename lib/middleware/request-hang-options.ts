/**
 * Options shared by the Express and Fastify middleware, validated once when the middleware is
 * created. Per request the middleware only looks up a deadline and begins an operation with the
 * options resolved once for that deadline: no promise, no closure, no validation per request.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import { beginOperation } from '../hang/with-hang-detection.js';
import {
  resolveHangOptions,
  type HangContext,
  type HangOptions,
  type ResolvedHangOptions,
} from '../hang/hang-options.js';
import type { Operation, OperationOwner } from '../hang/operation.js';
import { newRequestId } from './request-id.js';
import type { HangReport } from '../report/hang-report.js';
import type { ReportFormat, ReportOutput } from '../report/sink.js';
import {
  ANY_KEYS,
  booleanOption,
  enumOption,
  functionOption,
  numberOption,
  optionalObject,
  optionKeys,
  stringOption,
} from '../validate.js';

const REQUEST_HANG_OPTION_KEYS = optionKeys<RequestHangOptions>({
  timeoutMs: true,
  routes: true,
  timeoutFor: true,
  action: true,
  asyncTrace: true,
  steps: true,
  requestIdHeader: true,
  extraContext: true,
  onHang: true,
  output: true,
  format: true,
  repeatMs: true,
  captureStack: true,
});

/** What the middleware knows about a request when it picks a deadline. */
export interface RequestInfo {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Route pattern when the framework knows it already (Fastify), e.g. `/tasks/:id`. */
  route?: string | undefined;
}

export interface RequestHangOptions {
  /** Deadline of a request in ms when no route-specific one applies (default 30000). */
  timeoutMs?: number;
  /**
   * Per-route deadlines: keys are `'GET /tasks'`, `'/tasks/:id'` (any method) or `'* /reports/*'`;
   * `:name` matches one path segment, a trailing `*` the rest of the path. The first matching
   * key in insertion order wins. With Fastify, keys are matched against the route pattern too.
   */
  routes?: Record<string, number>;
  /** Per-request deadline; return `undefined` to fall back to `routes` / `timeoutMs`, `0` to not watch the request. */
  timeoutFor?: (request: RequestInfo) => number | undefined;
  /**
   * What to do at the deadline (default `'report'`: report and let the request go on — the
   * application's behaviour never changes). `'reject'`: report, then answer `503` with the request id
   * (if nothing was sent yet); the handler keeps running, its late response is dropped.
   */
  action?: 'report' | 'reject';
  /**
   * Record what the request waits on (pending promises, sockets, with creation stacks): `true`
   * for every request, a number in [0, 1] for that fraction of requests (sampling: a stuck
   * dependency stalls many requests, so a few traced ones are enough to name the line), `false`
   * (default). A traced request captures creation stacks (µs each); while one is in flight,
   * every request's promises go through the process-wide hook — see docs/production.md.
   */
  asyncTrace?: boolean | number;
  /**
   * Record each request's steps — `step(name, fn)` calls and outbound HTTP requests — so that a
   * report names the step a stuck request is in (default false; always on while a pool is watched).
   */
  steps?: boolean;
  /** Header carrying the correlation id, read from the request or generated, and set on the response (default `x-request-id`). */
  requestIdHeader?: string;
  /**
   * More facts for the request's reports, computed when the request starts, e.g. the trace and
   * span ids of the active OpenTelemetry span (`createOpenTelemetryExporter().requestContext`).
   * A throwing callback is ignored.
   */
  extraContext?: (req: IncomingMessage) => HangContext | undefined;
  /** Called with each report. */
  onHang?: (report: HangReport) => void;
  /** Where reports are written (default `'stderr'`); see `withHangDetection`. */
  output?: ReportOutput;
  format?: ReportFormat;
  /** Report again every `repeatMs` while the request is still stuck (default off). */
  repeatMs?: number;
  /** Capture the main thread's stack when the loop is blocked at the deadline (default true). */
  captureStack?: boolean;
}

interface RoutePattern {
  method: string | undefined;
  regex: RegExp;
  timeoutMs: number;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

export class RequestHangConfig {
  readonly defaultTimeoutMs: number;
  readonly action: 'report' | 'reject';
  readonly requestIdHeader: string;
  readonly #routes: RoutePattern[];
  readonly #timeoutFor: ((request: RequestInfo) => number | undefined) | undefined;
  readonly #extraContext: ((req: IncomingMessage) => HangContext | undefined) | undefined;
  readonly #hangOptions: HangOptions;
  readonly #resolved = new Map<number, ResolvedHangOptions>();
  readonly #tracedResolved = new Map<number, ResolvedHangOptions>();
  /** Options of an untraced request with the default deadline, the common case. */
  readonly #defaultResolved: ResolvedHangOptions | undefined;
  /** Fraction of requests run with asyncTrace (0 … 1); see `setAsyncTraceRate`. */
  traceRate: number;
  /** `timeoutOf` needs the request's method and path (`routes` or `timeoutFor` given). */
  readonly perRequestTimeout: boolean;
  /** `extraContext` was given. */
  readonly hasExtraContext: boolean;

  constructor(options: unknown) {
    const o = optionalObject<RequestHangOptions>('options', options, REQUEST_HANG_OPTION_KEYS);
    this.defaultTimeoutMs = numberOption('timeoutMs', o.timeoutMs, 30_000, { min: 0, max: MAX_TIMEOUT_MS });
    this.action = enumOption('action', o.action, ['report', 'reject'] as const, 'report');
    this.requestIdHeader = stringOption('requestIdHeader', o.requestIdHeader, 'x-request-id').toLowerCase();
    if (!/^[a-z0-9-]+$/.test(this.requestIdHeader))
      throw new InvalidOptionError('requestIdHeader', 'an HTTP header name', o.requestIdHeader);
    this.traceRate =
      typeof o.asyncTrace === 'number'
        ? numberOption('asyncTrace', o.asyncTrace, 0, { min: 0, max: 1 })
        : booleanOption('asyncTrace', o.asyncTrace, false)
          ? 1
          : 0;
    this.#timeoutFor = functionOption<(request: RequestInfo) => number | undefined>('timeoutFor', o.timeoutFor);
    this.#routes = compileRoutes(o.routes);
    this.#extraContext = functionOption<(req: IncomingMessage) => HangContext | undefined>(
      'extraContext',
      o.extraContext,
    );
    this.#hangOptions = {
      action: this.action,
      asyncTrace: false,
      steps: booleanOption('steps', o.steps, false),
      repeatMs: numberOption('repeatMs', o.repeatMs, 0, { min: 0, max: MAX_TIMEOUT_MS }),
      captureStack: booleanOption('captureStack', o.captureStack, true),
      // The request's socket keeps the process alive; not toggling the deadline timer's ref per request saves a native call.
      keepAlive: false,
      ...(o.onHang !== undefined
        ? { onHang: functionOption<(r: HangReport) => void>('onHang', o.onHang) as (r: HangReport) => void }
        : {}),
      ...(o.output !== undefined ? { output: o.output } : {}),
      ...(o.format !== undefined ? { format: o.format } : {}),
    };
    this.perRequestTimeout = this.#routes.length > 0 || this.#timeoutFor !== undefined;
    this.hasExtraContext = this.#extraContext !== undefined;
    // Validates output/format/etc. now rather than on the first request.
    this.#defaultResolved = this.#optionsFor(this.defaultTimeoutMs, false);
  }

  /** Deadline of a request; 0 means "not watched". */
  timeoutOf(request: RequestInfo): number {
    if (this.#timeoutFor) {
      let t: number | undefined;
      try {
        t = this.#timeoutFor(request);
      } catch {
        t = undefined; // a failing user callback must not break the request
      }
      if (typeof t === 'number' && Number.isFinite(t) && t >= 0) return Math.min(t, MAX_TIMEOUT_MS);
    }
    for (const r of this.#routes) {
      if (r.method !== undefined && r.method !== request.method) continue;
      if (r.regex.test(request.path) || (request.route !== undefined && r.regex.test(request.route)))
        return r.timeoutMs;
    }
    return this.defaultTimeoutMs;
  }

  /** Change the asyncTrace rate at run time (e.g. turn tracing on while investigating, off after). */
  setAsyncTraceRate(rate: boolean | number): void {
    this.traceRate = typeof rate === 'boolean' ? (rate ? 1 : 0) : numberOption('rate', rate, 0, { min: 0, max: 1 });
  }

  /**
   * The `extraContext` facts of a request when it starts (string, number and boolean values; a
   * throwing callback gives none). They never override the middleware's own keys.
   */
  extraContextOf(req: IncomingMessage): HangContext | undefined {
    if (!this.#extraContext) return undefined;
    let extra: HangContext | undefined;
    try {
      extra = this.#extraContext(req);
    } catch {
      return undefined;
    }
    if (!extra || typeof extra !== 'object') return undefined;
    const out: HangContext = {};
    for (const key of Object.keys(extra)) {
      const v = extra[key];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    }
    return out;
  }

  /**
   * Begin a request's operation with its deadline; whether it is traced is drawn here
   * (`asyncTrace` rate). The owner names it and hears of its deadline.
   */
  begin(timeoutMs: number, owner: OperationOwner): Operation {
    const traced = this.traceRate === 1 || (this.traceRate > 0 && Math.random() < this.traceRate);
    return beginOperation(this.#optionsFor(timeoutMs, traced), '', undefined, owner);
  }

  /** Options resolved once per distinct deadline (a handful in practice) and tracing choice. */
  #optionsFor(timeoutMs: number, traced: boolean): ResolvedHangOptions {
    if (timeoutMs === this.defaultTimeoutMs && !traced && this.#defaultResolved) return this.#defaultResolved;
    const cache = traced ? this.#tracedResolved : this.#resolved;
    let o = cache.get(timeoutMs);
    if (!o) {
      o = resolveHangOptions({ ...this.#hangOptions, asyncTrace: traced, timeoutMs });
      cache.set(timeoutMs, o);
    }
    return o;
  }

  /** The request's id from its header when it looks like an id, else a new UUID. */
  requestIdOf(headerValue: string | string[] | undefined): string {
    const v = Array.isArray(headerValue) ? headerValue[0] : headerValue;
    return v !== undefined && REQUEST_ID.test(v) ? v : newRequestId();
  }
}

function compileRoutes(value: unknown): RoutePattern[] {
  if (value === undefined) return [];
  const routes = optionalObject<Record<string, number>>('routes', value, ANY_KEYS);
  const out: RoutePattern[] = [];
  for (const key of Object.keys(routes)) {
    const timeoutMs = numberOption(`routes["${key}"]`, routes[key], 0, { min: 0, max: MAX_TIMEOUT_MS });
    const m = /^(?:([A-Za-z]+|\*)\s+)?(\/\S*)$/.exec(key.trim());
    if (!m) throw new InvalidOptionError(`routes["${key}"]`, 'a key like "GET /tasks/:id" or "/tasks/*"', key);
    const method = m[1] === undefined || m[1] === '*' ? undefined : m[1].toUpperCase();
    out.push({ method, regex: patternRegex(m[2] as string), timeoutMs });
  }
  return out;
}

function patternRegex(pattern: string): RegExp {
  const parts = pattern.split('/').map((seg, i, all) => {
    if (seg === '*' && i === all.length - 1) return '.*';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  let source = parts.join('/');
  if (source.endsWith('/.*')) source = `${source.slice(0, -3)}(?:/.*)?`;
  return new RegExp(`^${source}/?$`);
}

/** The path of a URL without its query string. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Body of the 503 answer of action `reject`. */
export function timeoutBody(
  requestId: string,
  timeoutMs: number,
): { error: string; message: string; requestId: string } {
  return { error: 'Service Unavailable', message: `request did not complete within ${timeoutMs} ms`, requestId };
}
