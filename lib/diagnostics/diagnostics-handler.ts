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
 * It is a plain `(req, res, next?)` Node handler: mount it with `app.use('/debug/hangwatch', h)`
 * (Express), `http.createServer(h)`, or in Fastify through `reply.hijack()` + `h(req.raw, reply.raw)`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync, unlink } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isTrackingAllocations, startAllocationTracking, stopAllocationTracking, takeAllocationSnapshot } from '../alloc/tracking.js';
import { startCpuProfile } from '../cpu/session.js';
import { InvalidOptionError } from '../errors.js';
import type { BlockEventLike } from '../export/events.js';
import { writeHeapSnapshot } from '../heap/write-heap-snapshot.js';
import type { HangReport } from '../report/hang-report.js';
import { booleanOption, numberOption, optionalObject, optionKeys, stringOption } from '../validate.js';

const DIAGNOSTICS_HANDLER_OPTION_KEYS = optionKeys<DiagnosticsHandlerOptions>({ token: true, allowRemote: true, endpoints: true, maxDurationSeconds: true, defaultDurationSeconds: true, maxHeapSnapshotBytes: true, dir: true, maxReports: true, loopMonitor: true });

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

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address !== undefined && typeof address !== 'string') throw new InvalidOptionError('address', 'an IP address string or undefined', address);
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time token check: both sides are hashed to equal length first. */
function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  const given = digest(m ? (m[1] as string) : '');
  return timingSafeEqual(expected, given) && m !== null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendBuffer(res: ServerResponse, data: Buffer | string, contentType: string, filename: string): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(data),
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
  });
  res.end(data);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Wait `ms`, or less if the client goes away; resolves true when the client is still there. */
function waitWhileConnected(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

export function createDiagnosticsHandler(options?: DiagnosticsHandlerOptions): DiagnosticsHandler {
  const o = optionalObject<DiagnosticsHandlerOptions>('options', options, DIAGNOSTICS_HANDLER_OPTION_KEYS);
  // An empty token (e.g. an environment variable that is set but empty) means "not configured".
  const token = stringOption('token', o.token) || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new InvalidOptionError('token', `at least ${MIN_TOKEN_LENGTH} characters without spaces`, '(hidden)');
  }
  const allowRemote = booleanOption('allowRemote', o.allowRemote, false);
  const maxSeconds = numberOption('maxDurationSeconds', o.maxDurationSeconds, 30, { min: 0.1, max: 600 });
  const defaultSeconds = Math.min(numberOption('defaultDurationSeconds', o.defaultDurationSeconds, 5, { min: 0.1, max: 600 }), maxSeconds);
  const maxHeapBytes = numberOption('maxHeapSnapshotBytes', o.maxHeapSnapshotBytes, 2 ** 30, { min: 1 });
  const dir = stringOption('dir', o.dir, tmpdir());
  const maxReports = numberOption('maxReports', o.maxReports, 50, { min: 0, max: 10_000, integer: true });
  let endpoints = ALL_ENDPOINTS;
  if (o.endpoints !== undefined) {
    if (!Array.isArray(o.endpoints) || o.endpoints.some((e) => !ALL_ENDPOINTS.includes(e))) {
      throw new InvalidOptionError('endpoints', `an array of ${ALL_ENDPOINTS.map((e) => `"${e}"`).join(', ')}`, o.endpoints);
    }
    endpoints = [...o.endpoints];
  }
  const loopMonitor = o.loopMonitor;
  if (loopMonitor !== undefined && (loopMonitor === null || typeof loopMonitor.stats !== 'function')) {
    throw new InvalidOptionError('loopMonitor', 'an object with stats()', loopMonitor);
  }

  const enabled = token !== undefined;
  const expected = token === undefined ? undefined : digest(token);
  const hangs: HangReport[] = [];
  const blocks: BlockEventLike[] = [];
  const keep = <T>(list: T[], item: T): void => {
    if (maxReports === 0) return;
    list.push(item);
    if (list.length > maxReports) list.splice(0, list.length - maxReports);
  };
  let delay: IntervalHistogram | undefined;
  let elu: EventLoopUtilization | undefined;
  if (enabled && endpoints.includes('loop')) {
    delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    elu = performance.eventLoopUtilization();
  }
  let busy: string | undefined;

  const secondsOf = (url: URL): number => {
    const raw = url.searchParams.get('seconds');
    if (raw === null) return defaultSeconds;
    const s = Number(raw);
    if (!Number.isFinite(s) || s <= 0 || s > maxSeconds) throw new HttpError(400, `seconds must be a number in (0, ${maxSeconds}]`);
    return s;
  };
  const formatOf = (url: URL, allowed: string[]): string => {
    const f = url.searchParams.get('format') ?? (allowed[0] as string);
    if (!allowed.includes(f)) throw new HttpError(400, `format must be one of ${allowed.join(', ')}`);
    return f;
  };

  const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

  async function cpuProfile(url: URL, res: ServerResponse): Promise<void> {
    const seconds = secondsOf(url);
    const format = formatOf(url, ['cpuprofile', 'pprof']);
    const session = await startCpuProfile({ maxDurationMs: Math.ceil(seconds * 1000) + 1000 });
    const connected = await waitWhileConnected(res, seconds * 1000);
    const profile = await session.stop();
    if (!connected) return;
    if (format === 'pprof') sendBuffer(res, profile.toPprof(), 'application/octet-stream', `cpu-${stamp()}.pb.gz`);
    else sendBuffer(res, JSON.stringify(profile.toJSON()), 'application/json', `cpu-${stamp()}.cpuprofile`);
  }

  async function allocationSnapshot(url: URL, res: ServerResponse): Promise<void> {
    const seconds = secondsOf(url);
    const format = formatOf(url, ['json', 'pprof']);
    // Tracking someone else started is only read, never stopped.
    const ours = !isTrackingAllocations();
    if (ours) startAllocationTracking({ peakPollIntervalMs: 0 });
    let snapshot: ReturnType<typeof takeAllocationSnapshot>;
    try {
      const connected = await waitWhileConnected(res, seconds * 1000);
      if (!connected) return;
      snapshot = takeAllocationSnapshot();
    } finally {
      if (ours) stopAllocationTracking();
    }
    if (format === 'pprof') sendBuffer(res, snapshot.toPprof(), 'application/octet-stream', `alloc-${stamp()}.pb.gz`);
    else sendBuffer(res, JSON.stringify(snapshot.toJSON()), 'application/json', `alloc-${stamp()}.json`);
  }

  async function heapSnapshot(res: ServerResponse): Promise<void> {
    const used = getHeapStatistics().used_heap_size;
    // A snapshot file is at least about as big as the used heap.
    if (used > maxHeapBytes) throw new HttpError(413, `the heap (${used} bytes used) is over the ${maxHeapBytes}-byte snapshot limit`);
    const file = await writeHeapSnapshot({ dir, filename: `hangwatch-diagnostics-${process.pid}-${stamp()}.heapsnapshot` });
    const remove = (): void => unlink(file, () => undefined);
    let size: number;
    try {
      size = statSync(file).size;
    } catch (err) {
      remove();
      throw err;
    }
    if (size > maxHeapBytes) {
      remove();
      throw new HttpError(413, `the snapshot (${size} bytes) is over the ${maxHeapBytes}-byte limit`);
    }
    if (res.destroyed) {
      remove();
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': size,
      'content-disposition': `attachment; filename="heap-${stamp()}.heapsnapshot"`,
      'cache-control': 'no-store',
    });
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file);
      // Once open, the file can go: the snapshot never lingers on disk, even if the process dies mid-send.
      stream.once('open', remove);
      const done = (): void => {
        remove();
        resolve();
      };
      stream.once('error', () => {
        res.destroy();
        done();
      });
      res.once('close', () => {
        stream.destroy();
        done();
      });
      stream.pipe(res);
    });
  }

  function loopStats(): unknown {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const now = performance.eventLoopUtilization();
    const utilization = elu ? performance.eventLoopUtilization(now, elu).utilization : undefined;
    elu = now;
    const d = delay;
    const out: Record<string, unknown> = {
      delayMs: d && d.count > 0 ? { samples: d.count, min: ms(d.min), mean: ms(d.mean), p50: ms(d.percentile(50)), p90: ms(d.percentile(90)), p99: ms(d.percentile(99)), max: ms(d.max) } : { samples: 0 },
      utilizationSinceLastCall: utilization,
      heap: (({ used_heap_size, total_heap_size, heap_size_limit }) => ({ used: used_heap_size, total: total_heap_size, limit: heap_size_limit }))(getHeapStatistics()),
      uptimeSeconds: Math.round(process.uptime()),
    };
    if (loopMonitor) {
      try {
        out.monitor = loopMonitor.stats();
      } catch (err) {
        out.monitorError = (err as Error).message;
      }
    }
    return out;
  }

  const capture = (name: string, res: ServerResponse, run: () => Promise<void>): void => {
    if (busy !== undefined) {
      sendJson(res, 409, { error: 'busy', message: `a ${busy} capture is in progress; try again when it ends` });
      return;
    }
    busy = name;
    run()
      .catch((err: unknown) => {
        if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
        else sendJson(res, 500, { error: `${name} failed`, code: (err as { code?: unknown }).code ?? undefined });
      })
      .finally(() => {
        busy = undefined;
      });
  };

  const handler = function hangwatchDiagnostics(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void {
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
      sendJson(res, 401, { error: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer realm="hangwatch"' });
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
        sendJson(res, 200, loopStats());
        return;
      case 'reports':
        sendJson(res, 200, { hangs, blocks });
        return;
      case 'cpu-profile':
        capture('cpu-profile', res, () => cpuProfile(url, res));
        return;
      case 'allocation-snapshot':
        capture('allocation-snapshot', res, () => allocationSnapshot(url, res));
        return;
      case 'heap-snapshot':
        capture('heap-snapshot', res, () => heapSnapshot(res));
        return;
    }
  } as DiagnosticsHandler;

  Object.defineProperties(handler, {
    enabled: { value: enabled, enumerable: true },
    recordHang: { value: (report: HangReport) => report && typeof report === 'object' && keep(hangs, report), enumerable: true },
    recordBlock: { value: (event: BlockEventLike) => event && typeof event === 'object' && keep(blocks, event), enumerable: true },
    close: {
      value: () => {
        delay?.disable();
        delay = undefined;
      },
      enumerable: true,
    },
  });
  return handler;
}
