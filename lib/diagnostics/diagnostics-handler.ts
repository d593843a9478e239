/**
 * An HTTP handler to mount in a service for on-demand diagnostics: a CPU profile of N seconds,
 * a heap snapshot, an allocation snapshot of N seconds, current event-loop stats and the recent
 * hang/block reports.
 *
 * Secure by default:
 * - disabled unless a token is configured (a disabled handler answers 404, or calls `next()`);
 * - every request needs `Authorization: Bearer <token>`, compared in constant time;
 * - loopback callers only unless `allowRemote: true` (the socket's address; proxy headers are
 *   never trusted);
 * - one capture at a time (409 while busy), durations and response sizes bounded;
 * - responses hold profiles and stats only — never the environment, options or the token.
 *
 * This file holds the options, the checks every request passes (caller-access.ts) and the routing to
 * the endpoints, one file each; one capture runs at a time.
 *
 * It is a plain `(req, res, next?)` Node handler: mount it with `app.use('/debug/hangwatch', h)`
 * (Express), `http.createServer(h)`, or in Fastify through `reply.hijack()` + `h(req.raw, reply.raw)`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import type { BlockEventLike } from '../export/events.js';
import type { HangReport } from '../report/hang-report.js';
import { booleanOption, numberOption, optionalObject, optionKeys, stringOption } from '../validate.js';
import { serveAllocationSnapshot } from './allocation-snapshot-endpoint.js';
import type { CaptureLimits } from './capture-query.js';
import { isLoopbackAddress, tokenDigest, tokenMatches } from './caller-access.js';
import { serveCpuProfile } from './cpu-profile-endpoint.js';
import { DiagnosticsRequestError } from './errors.js';
import { serveHeapSnapshot } from './heap-snapshot-endpoint.js';
import { sendJson } from './http-answers.js';
import { LoopStatsEndpoint } from './loop-stats-endpoint.js';

export { isLoopbackAddress } from './caller-access.js';

const DIAGNOSTICS_HANDLER_OPTION_KEYS = optionKeys<DiagnosticsHandlerOptions>({
  token: true,
  allowRemote: true,
  endpoints: true,
  maxDurationSeconds: true,
  defaultDurationSeconds: true,
  maxHeapSnapshotBytes: true,
  dir: true,
  maxReports: true,
  loopMonitor: true,
});

export type DiagnosticsEndpoint = 'cpu-profile' | 'heap-snapshot' | 'allocation-snapshot' | 'loop' | 'reports';

export interface DiagnosticsHandlerOptions {
  /** Bearer token (at least 16 characters). Without it (or with `''`) the handler is disabled. */
  token?: string | undefined;
  /** Accept callers that are not on loopback (default false). Put TLS and a network policy in front first. */
  allowRemote?: boolean;
  /** Endpoints to serve (default all). */
  endpoints?: DiagnosticsEndpoint[];
  /** Longest CPU / allocation capture, seconds (default 30, at most 600). */
  maxDurationSeconds?: number;
  /** Capture length when `?seconds=` is not given (default 5). */
  defaultDurationSeconds?: number;
  /** Largest heap snapshot served, bytes (default 1 GiB); bigger ones are refused with 413. */
  maxHeapSnapshotBytes?: number;
  /** Directory for the temporary heap snapshot file (default the OS temp dir); the file is removed after sending. */
  dir?: string;
  /** Recent hang and block reports kept for `/reports` (default 50 of each). */
  maxReports?: number;
  /** An event-loop monitor (`monitorEventLoop()`), whose `stats()` `/loop` includes. */
  loopMonitor?: { stats(): unknown };
}

export interface DiagnosticsHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** False when no token was configured: every request gets 404 (or `next()`). */
  readonly enabled: boolean;
  /** Keep a hang report for `/reports` (pass as `onHang`). Bound. */
  readonly recordHang: (report: HangReport) => void;
  /** Keep a block event for `/reports` (pass as the loop monitor's `onBlock`). Bound. */
  readonly recordBlock: (event: BlockEventLike) => void;
  /** Stop the handler's own event-loop delay histogram; idempotent. */
  close(): void;
}

const ALL_ENDPOINTS: DiagnosticsEndpoint[] = ['cpu-profile', 'heap-snapshot', 'allocation-snapshot', 'loop', 'reports'];
const MIN_TOKEN_LENGTH = 16;

export function createDiagnosticsHandler(options?: DiagnosticsHandlerOptions): DiagnosticsHandler {
  const o = optionalObject<DiagnosticsHandlerOptions>('options', options, DIAGNOSTICS_HANDLER_OPTION_KEYS);
  // An empty token (e.g. an environment variable that is set but empty) means "not configured".
  const token = stringOption('token', o.token) || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new InvalidOptionError('token', `at least ${MIN_TOKEN_LENGTH} characters without spaces`, '(hidden)');
  }
  const allowRemote = booleanOption('allowRemote', o.allowRemote, false);
  const maxSeconds = numberOption('maxDurationSeconds', o.maxDurationSeconds, 30, { min: 0.1, max: 600 });
  const defaultSeconds = Math.min(
    numberOption('defaultDurationSeconds', o.defaultDurationSeconds, 5, { min: 0.1, max: 600 }),
    maxSeconds,
  );
  const maxHeapBytes = numberOption('maxHeapSnapshotBytes', o.maxHeapSnapshotBytes, 2 ** 30, { min: 1 });
  const dir = stringOption('dir', o.dir, tmpdir());
  const maxReports = numberOption('maxReports', o.maxReports, 50, { min: 0, max: 10_000, integer: true });
  let endpoints = ALL_ENDPOINTS;
  if (o.endpoints !== undefined) {
    if (!Array.isArray(o.endpoints) || o.endpoints.some((e) => !ALL_ENDPOINTS.includes(e))) {
      throw new InvalidOptionError(
        'endpoints',
        `an array of ${ALL_ENDPOINTS.map((e) => `"${e}"`).join(', ')}`,
        o.endpoints,
      );
    }
    endpoints = [...o.endpoints];
  }
  const loopMonitor = o.loopMonitor;
  if (loopMonitor !== undefined && (loopMonitor === null || typeof loopMonitor.stats !== 'function')) {
    throw new InvalidOptionError('loopMonitor', 'an object with stats()', loopMonitor);
  }

  const enabled = token !== undefined;
  const expected = token === undefined ? undefined : tokenDigest(token);
  const hangs: HangReport[] = [];
  const blocks: BlockEventLike[] = [];
  const keep = <T>(list: T[], item: T): void => {
    if (maxReports === 0) return;
    list.push(item);
    if (list.length > maxReports) list.splice(0, list.length - maxReports);
  };
  const loopStats = enabled && endpoints.includes('loop') ? new LoopStatsEndpoint(loopMonitor) : undefined;
  const limits: CaptureLimits = { defaultSeconds, maxSeconds };
  let busy: string | undefined;

  const capture = (name: string, res: ServerResponse, run: () => Promise<void>): void => {
    if (busy !== undefined) {
      sendJson(res, 409, { error: 'busy', message: `a ${busy} capture is in progress; try again when it ends` });
      return;
    }
    busy = name;
    run()
      .catch((err: unknown) => {
        if (err instanceof DiagnosticsRequestError) sendJson(res, err.status, { error: err.message });
        else sendJson(res, 500, { error: `${name} failed`, code: (err as { code?: unknown }).code ?? undefined });
      })
      .finally(() => {
        busy = undefined;
      });
  };

  const handler = function hangwatchDiagnostics(
    req: IncomingMessage,
    res: ServerResponse,
    next?: (err?: unknown) => void,
  ): void {
    if (!enabled || !expected) {
      if (next) next();
      else sendJson(res, 404, { error: 'not found' });
      return;
    }
    if (!allowRemote && !isLoopbackAddress(req.socket?.remoteAddress)) {
      sendJson(res, 403, { error: 'diagnostics are served to loopback callers only' });
      return;
    }
    if (!tokenMatches(expected, req.headers.authorization)) {
      sendJson(
        res,
        401,
        { error: 'a valid bearer token is required' },
        { 'www-authenticate': 'Bearer realm="hangwatch"' },
      );
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'bad url' });
      return;
    }
    const endpoint = url.pathname.replace(/\/+$/, '').split('/').pop() ?? '';
    if (endpoint === '') {
      sendJson(res, 200, { endpoints });
      return;
    }
    if (!endpoints.includes(endpoint as DiagnosticsEndpoint)) {
      sendJson(res, 404, { error: 'no such diagnostics endpoint', endpoints });
      return;
    }
    switch (endpoint as DiagnosticsEndpoint) {
      case 'loop':
        sendJson(res, 200, loopStats?.read());
        return;
      case 'reports':
        sendJson(res, 200, { hangs, blocks });
        return;
      case 'cpu-profile':
        capture('cpu-profile', res, () => serveCpuProfile(url, res, limits));
        return;
      case 'allocation-snapshot':
        capture('allocation-snapshot', res, () => serveAllocationSnapshot(url, res, limits));
        return;
      case 'heap-snapshot':
        capture('heap-snapshot', res, () => serveHeapSnapshot(res, { dir, maxBytes: maxHeapBytes }));
        return;
    }
  } as DiagnosticsHandler;

  Object.defineProperties(handler, {
    enabled: { value: enabled, enumerable: true },
    recordHang: {
      value: (report: HangReport) => report && typeof report === 'object' && keep(hangs, report),
      enumerable: true,
    },
    recordBlock: {
      value: (event: BlockEventLike) => event && typeof event === 'object' && keep(blocks, event),
      enumerable: true,
    },
    close: {
      value: () => loopStats?.close(),
      enumerable: true,
    },
  });
  return handler;
}
