/**
 * The OpenTelemetry exporter: nothing without an SDK; with one (sdk-trace-base + sdk-logs,
 * in-memory exporters, an AsyncLocalStorage context manager) hangs become span events on the
 * request's span or spans of their own, blocks become spans, both also WARN log records; the
 * Express middleware's `extraContext` ties a report to the request's trace.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';
import { createOpenTelemetryExporter } from '../../lib/export/opentelemetry.js';
import { hangwatchExpress } from '../../lib/middleware/express.js';

class AlsContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

const waitLine = lineOf('// the line the report points at');

function lineOf(marker: string): number {
  return (
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(marker) && !l.includes('lineOf(')) + 1
  );
}

async function hangReport(ctx?: Record<string, string>): Promise<HangReport> {
  let report: HangReport | undefined;
  async function fetchTasks(): Promise<void> {
    await new Promise((r) => setTimeout(r, 120)); // the line the report points at
  }
  await withHangDetection(() => fetchTasks(), {
    timeoutMs: 30,
    asyncTrace: true,
    output: 'none',
    name: 'GET /tasks',
    context: { method: 'GET', route: '/tasks', requestId: 'r-1', ...ctx },
    onHang: (r) => (report = r),
  });
  if (!report) throw new Error('no report');
  return report;
}

t.test('no SDK registered: nothing happens, nothing throws', async (t) => {
  const otel = createOpenTelemetryExporter();
  otel.recordHang(await hangReport());
  otel.recordBlock({ durationMs: 100 });
  t.equal(otel.requestContext(), undefined);
  t.throws(() => createOpenTelemetryExporter({ maxTextLength: 1 }));
});

t.test('with an SDK', async (t) => {
  const spans = new InMemorySpanExporter();
  const records = new InMemoryLogRecordExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: records })] });
  context.setGlobalContextManager(new AlsContextManager());
  trace.setGlobalTracerProvider(tracerProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  t.teardown(async () => {
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
    trace.disable();
    logs.disable();
    context.disable();
  });
  const otel = createOpenTelemetryExporter();
  const tracer = trace.getTracer('test');

  t.test('a hang outside any span: a span of its own and a log record', async (t) => {
    spans.reset();
    records.reset();
    const report = await hangReport();
    otel.recordHang(report);
    const [span] = spans.getFinishedSpans();
    t.equal(span?.name, 'hangwatch.hang GET /tasks');
    t.equal(span?.attributes['http.route'], '/tasks');
    t.equal(span?.attributes['hangwatch.request_id'], 'r-1');
    t.equal(span?.attributes['hangwatch.hang.kind'], 'pending');
    t.match(String(span?.attributes['code.filepath']), /opentelemetry\.test\.ts$/);
    t.equal(span?.attributes['code.lineno'], waitLine, 'names the line it waits on');
    t.equal(span?.events[0]?.name, 'hangwatch.hang');
    const [log] = records.getFinishedLogRecords();
    t.equal(log?.severityNumber, SeverityNumber.WARN);
    t.match(String(log?.body), /GET \/tasks has not finished/);
    t.equal(log?.attributes['event.name'], 'hangwatch.hang');
    t.equal(log?.spanContext?.traceId, span?.spanContext().traceId, 'the log record is correlated with the span');
  });

  t.test('inside an active span: a span event on it', async (t) => {
    spans.reset();
    const report = await hangReport();
    const parent = tracer.startSpan('request');
    context.with(trace.setSpan(context.active(), parent), () => otel.recordHang(report));
    parent.end();
    const finished = spans.getFinishedSpans();
    t.equal(finished.length, 1, 'no extra span');
    t.equal(finished[0]?.events[0]?.name, 'hangwatch.hang');
    t.equal(finished[0]?.events[0]?.attributes?.['http.route'], '/tasks');
  });

  t.test('the express middleware ties reports to the request trace', async (t) => {
    spans.reset();
    const reports: HangReport[] = [];
    const app = express();
    // stands in for the HTTP instrumentation: the request runs inside its span
    app.use((req, _res, next) => {
      const span = tracer.startSpan(`GET ${req.path}`);
      _res.once('close', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    app.use(
      hangwatchExpress({
        timeoutMs: 60,
        output: 'none',
        extraContext: otel.requestContext,
        onHang: (r) => {
          reports.push(r);
          otel.recordHang(r);
        },
      }),
    );
    app.get('/slow', (_req, res) => void setTimeout(() => res.end('ok'), 200));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    t.teardown(() => server.close());
    await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`)).text();
    const request = spans.getFinishedSpans().find((s) => s.name === 'GET /slow');
    t.ok(request, 'the request span');
    t.equal(reports[0]?.context?.traceId, request?.spanContext().traceId, 'the report names the trace');
    const hang = spans.getFinishedSpans().find((s) => s.name.startsWith('hangwatch.hang'));
    t.equal(
      hang?.parentSpanContext?.spanId,
      request?.spanContext().spanId,
      'the hang span is a child of the request span',
    );
  });

  t.test('a block: a span covering it and a log record', async (t) => {
    spans.reset();
    records.reset();
    const startedAt = Date.now() - 300;
    otel.recordBlock({
      durationMs: 250,
      startedAt: new Date(startedAt).toISOString(),
      stack: [{ functionName: 'spin', file: '/app/x.js', line: 3, column: 1 }] as never,
    });
    const [span] = spans.getFinishedSpans();
    t.equal(span?.name, 'hangwatch.block');
    t.equal(span?.attributes['code.function'], 'spin');
    const ms = (hr: [number, number] | undefined): number => (hr ? hr[0] * 1e3 + hr[1] / 1e6 : NaN);
    t.ok(Math.abs(ms(span?.duration) - 250) < 2, 'duration = the block');
    t.match(String(records.getFinishedLogRecords()[0]?.body), /blocked for 250 ms in spin/);
  });
});
