/**
 * Outbound HTTP requests become steps of the operation that makes them, through the
 * `diagnostics_channel` messages Node publishes: `undici:request:*` (fetch and undici) and
 * `http.client.request.start` / `http.client.response.finish` / `http.client.request.error`
 * (`node:http` / `node:https` clients). Subscribed once, when the first operation that records
 * steps begins; a message outside such an operation costs one lookup.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { currentOperation } from './operation.js';
import type { StepLog, StepRecord } from './step-log.js';
import { beginAutoStep } from './step-recording.js';

interface OpenStep {
  log: StepLog;
  record: StepRecord;
}

const open = new WeakMap<object, OpenStep>();
let subscribed = false;

/** Subscribe to the HTTP client channels (once). */
export function recordHttpSteps(): void {
  if (subscribed) return;
  subscribed = true;
  diagnosticsChannel.subscribe('undici:request:create', onUndiciCreate);
  diagnosticsChannel.subscribe('undici:request:trailers', onRequestDone);
  diagnosticsChannel.subscribe('undici:request:error', onRequestFailed);
  diagnosticsChannel.subscribe('http.client.request.start', onHttpStart);
  diagnosticsChannel.subscribe('http.client.response.finish', onRequestDone);
  diagnosticsChannel.subscribe('http.client.request.error', onRequestFailed);
}

interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
}

interface HttpClientRequest {
  method?: unknown;
  protocol?: unknown;
  host?: unknown;
  path?: unknown;
  getHeader?: (name: string) => unknown;
}

function onUndiciCreate(message: unknown): void {
  const op = currentOperation();
  if (!op) return;
  const request = (message as { request?: UndiciRequest }).request;
  if (!request || typeof request !== 'object') return;
  const origin = typeof request.origin === 'string' ? request.origin : String(request.origin ?? '');
  open.set(
    request,
    beginAutoStep(op, `${String(request.method ?? 'GET')} ${origin}${withoutQuery(request.path)}`, 'http'),
  );
}

function onHttpStart(message: unknown): void {
  const op = currentOperation();
  if (!op) return;
  const request = (message as { request?: HttpClientRequest }).request;
  if (!request || typeof request !== 'object') return;
  const protocol = typeof request.protocol === 'string' ? request.protocol : 'http:';
  let host: unknown;
  try {
    host = request.getHeader?.('host');
  } catch {
    host = undefined;
  }
  if (typeof host !== 'string') host = request.host;
  open.set(
    request,
    beginAutoStep(
      op,
      `${String(request.method ?? 'GET')} ${protocol}//${String(host ?? '')}${withoutQuery(request.path)}`,
      'http',
    ),
  );
}

function onRequestDone(message: unknown): void {
  end(message, false);
}

function onRequestFailed(message: unknown): void {
  end(message, true);
}

function end(message: unknown, failed: boolean): void {
  const request = (message as { request?: object }).request;
  if (!request || typeof request !== 'object') return;
  const step = open.get(request);
  if (!step) return;
  open.delete(request);
  step.log.end(step.record, Date.now(), failed);
}

/** A query string may carry tokens or personal data: reports name the path only. */
function withoutQuery(path: unknown): string {
  const p = typeof path === 'string' ? path : '';
  const q = p.indexOf('?');
  return q < 0 ? p : p.slice(0, q);
}
