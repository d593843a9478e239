/**
 * OpenTelemetry export (`hangwatch/opentelemetry`; `@opentelemetry/api` and
 * `@opentelemetry/api-logs` are optional peer dependencies). Only the API packages are used:
 * with no SDK registered every call is a no-op, so nothing is recorded and nothing is sent.
 *
 * - A hang becomes a span event `hangwatch.hang` on the request's span when the report knows it
 *   (`traceId`/`spanId` in its context, see `requestContext`) or on the active span, else a short
 *   span `hangwatch.hang` of its own; plus a WARN log record through the global logger provider.
 * - A block becomes a span `hangwatch.block` covering the block and a WARN log record.
 *
 * ```ts
 * const otel = createOpenTelemetryExporter();
 * app.use(hangwatchExpress({ extraContext: otel.requestContext, onHang: otel.recordHang }));
 * ```
 */
import {
  context as otelContext,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { IncomingMessage } from 'node:http';
import type { StackFrame } from '../capture/stack-frame.js';
import type { HangReport } from '../report/hang-report.js';
import { renderHangReportText } from '../report/render-hang-text.js';
import { booleanOption, numberOption, optionalObject, optionKeys, requiredObject, stringOption } from '../validate.js';
import { frameText, topUserFrame, type BlockEventLike } from './events.js';

const OPEN_TELEMETRY_EXPORTER_OPTION_KEYS = optionKeys<OpenTelemetryExporterOptions>({
  name: true,
  logs: true,
  standaloneSpans: true,
  maxTextLength: true,
});

export interface OpenTelemetryExporterOptions {
  /** Instrumentation scope name of the tracer and logger (default `hangwatch`). */
  name?: string;
  /** Emit log records through `@opentelemetry/api-logs` (default true). */
  logs?: boolean;
  /** Record a span of its own for a hang that has no span to attach to (default true). */
  standaloneSpans?: boolean;
  /** Longest text attribute (rendered traceback), characters (default 8192). */
  maxTextLength?: number;
}

export interface OpenTelemetryExporter {
  /** Record a hang report (pass as, or call from, `onHang`). `span`: attach to this span. Bound. */
  readonly recordHang: (report: HangReport, span?: Span) => void;
  /** Record an event-loop block (the loop monitor's `onBlock`). Bound. */
  readonly recordBlock: (event: BlockEventLike) => void;
  /**
   * `{ traceId, spanId }` of the span active where it is called, for the middleware's
   * `extraContext`: reports then name the request's trace, and the hang is recorded on its span.
   */
  readonly requestContext: (req?: IncomingMessage) => { traceId: string; spanId: string } | undefined;
}

const VERSION = '0.1.0';

function waitingFrame(report: HangReport): StackFrame | undefined {
  if (report.kind === 'blocked') return topUserFrame(report.mainStack);
  return topUserFrame(
    report.pending?.[0]?.stack.filter((f) => !f.file.includes('/node_modules/')) ?? report.pending?.[0]?.stack,
  );
}

export function hangAttributes(report: HangReport, maxText = 8192): Attributes {
  requiredObject('report', report, 'a hang report');
  const a: Attributes = {
    'hangwatch.hang.kind': report.kind,
    'hangwatch.hang.name': report.name,
    'hangwatch.operation.id': report.operationId,
    'hangwatch.timeout_ms': report.timeoutMs,
    'hangwatch.elapsed_ms': report.elapsedMs,
    'hangwatch.repeat': report.repeat,
  };
  const c = report.context;
  if (c) {
    if (c.method !== undefined) a['http.request.method'] = String(c.method);
    if (c.route !== undefined) a['http.route'] = String(c.route);
    if (c.requestId !== undefined) a['hangwatch.request_id'] = String(c.requestId);
  }
  const f = waitingFrame(report);
  if (f) {
    a['code.function'] = f.functionName;
    a['code.filepath'] = f.file;
    a['code.lineno'] = f.line;
    a['code.column'] = f.column;
  }
  if (report.pending?.[0]) a['hangwatch.waiting_on'] = report.pending[0].type;
  const text = renderHangReportText(report);
  a['hangwatch.report'] = text.length > maxText ? `${text.slice(0, maxText)}…` : text;
  return a;
}

function parentFrom(report: HangReport): Context | undefined {
  const traceId = report.context?.traceId;
  const spanId = report.context?.spanId;
  if (
    typeof traceId !== 'string' ||
    typeof spanId !== 'string' ||
    !/^[0-9a-f]{32}$/.test(traceId) ||
    !/^[0-9a-f]{16}$/.test(spanId)
  )
    return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

export function createOpenTelemetryExporter(options?: OpenTelemetryExporterOptions): OpenTelemetryExporter {
  const o = optionalObject<OpenTelemetryExporterOptions>('options', options, OPEN_TELEMETRY_EXPORTER_OPTION_KEYS);
  const name = stringOption('name', o.name, 'hangwatch');
  const emitLogs = booleanOption('logs', o.logs, true);
  const standalone = booleanOption('standaloneSpans', o.standaloneSpans, true);
  const maxText = numberOption('maxTextLength', o.maxTextLength, 8192, { min: 64, max: 1 << 20, integer: true });
  // The global providers are looked up per call: an SDK registered later is picked up.
  const tracer = () => trace.getTracer(name, VERSION);
  const logger = () => logs.getLogger(name, VERSION);

  const recordHang = (report: HangReport, span?: Span): void => {
    try {
      if (!report || typeof report !== 'object') return;
      const attributes = hangAttributes(report, maxText);
      const at = Date.parse(report.detectedAt) || Date.now();
      const parent = parentFrom(report);
      const target = span ?? (parent ? undefined : trace.getActiveSpan());
      let ctx: Context = otelContext.active();
      if (target?.isRecording()) {
        target.addEvent('hangwatch.hang', attributes, at);
        ctx = trace.setSpan(ctx, target);
      } else if (standalone) {
        const start = Date.parse(report.startedAt) || at;
        const own = tracer().startSpan(
          `hangwatch.hang ${report.name}`,
          { attributes, startTime: start },
          parent ?? ctx,
        );
        own.addEvent('hangwatch.hang', attributes, at);
        own.end(at);
        ctx = trace.setSpan(parent ?? ctx, own);
      } else if (parent) {
        ctx = parent;
      }
      if (emitLogs) {
        logger().emit({
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARN',
          body: `hang: ${report.name} has not finished after ${Math.round(report.elapsedMs)} ms (${report.kind})`,
          attributes: { 'event.name': 'hangwatch.hang', ...attributes },
          timestamp: at,
          context: ctx,
        });
      }
    } catch {
      // telemetry must never break the program
    }
  };

  const recordBlock = (event: BlockEventLike): void => {
    try {
      if (!event || typeof event.durationMs !== 'number' || !Number.isFinite(event.durationMs)) return;
      const startedAt =
        typeof event.startedAt === 'number'
          ? event.startedAt
          : Date.parse(event.startedAt ?? '') || Date.now() - event.durationMs;
      const top = topUserFrame(event.stack);
      const attributes: Attributes = { 'hangwatch.block.duration_ms': event.durationMs };
      if (event.id !== undefined) attributes['hangwatch.block.id'] = String(event.id);
      if (top) {
        attributes['code.function'] = top.functionName;
        attributes['code.filepath'] = top.file;
        attributes['code.lineno'] = top.line;
      }
      if (event.stack)
        attributes['hangwatch.stack'] = event.stack
          .slice(0, 32)
          .map((f) => frameText(f))
          .join('\n')
          .slice(0, maxText);
      const span = tracer().startSpan('hangwatch.block', { attributes, startTime: startedAt }, ROOT_CONTEXT);
      span.end(startedAt + event.durationMs);
      if (emitLogs) {
        logger().emit({
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARN',
          body: `event loop blocked for ${Math.round(event.durationMs)} ms${top ? ` in ${frameText(top)}` : ''}`,
          attributes: { 'event.name': 'hangwatch.block', ...attributes },
          timestamp: startedAt,
          context: trace.setSpan(ROOT_CONTEXT, span),
        });
      }
    } catch {
      // telemetry must never break the program
    }
  };

  const requestContext = (): { traceId: string; spanId: string } | undefined => {
    const sc = trace.getActiveSpan()?.spanContext();
    if (!sc || !trace.isSpanContextValid(sc)) return undefined;
    return { traceId: sc.traceId, spanId: sc.spanId };
  };

  return { recordHang, recordBlock, requestContext };
}
