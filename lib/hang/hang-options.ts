/**
 * Options of `withHangDetection` and their validation. Resolved once per call (or once per
 * detector with `createHangDetector`), then shared read-only by the operations.
 */
import { InvalidOptionError } from '../errors.js';
import type { HangAction, HangReport } from '../report/hang-report.js';
import { resolveSink, type ReportFormat, type ReportOutput, type ReportSink } from '../report/sink.js';
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

const HANG_OPTION_KEYS = optionKeys<HangOptions>({
  timeoutMs: true,
  name: true,
  action: true,
  repeatMs: true,
  asyncTrace: true,
  steps: true,
  onHang: true,
  output: true,
  format: true,
  exitCode: true,
  captureStack: true,
  keepAlive: true,
  context: true,
});

export interface HangOptions {
  /** Deadline in ms from the call (default 30000). */
  timeoutMs?: number;
  /** Label in reports (default: the function's name). */
  name?: string;
  /**
   * What to do at the deadline (default `'report'`):
   * - `report`: report and keep waiting (the returned promise settles with the operation);
   * - `reject`: report and reject the returned promise with a `HangError` carrying the report;
   * - `abort`: like `reject`, and abort the `AbortSignal` passed to the function;
   * - `exit`: write the report, then end the process with `exitCode` (like faulthandler's exit=True).
   */
  action?: HangAction;
  /** While still hung, report again every `repeatMs` (faulthandler's repeat=True). Action `report` only. */
  repeatMs?: number;
  /** Record what the operation waits on (pending promises, timers, sockets, with creation stacks). */
  asyncTrace?: boolean;
  /**
   * Record the operation's steps — `step(name, fn)` calls and outbound HTTP requests (fetch,
   * undici, `node:http`) made inside it — so that a report names the step it is stuck in
   * (default false; always on while a pool is watched). Costs an AsyncLocalStorage context per
   * operation: see docs/hang.md.
   */
  steps?: boolean;
  /** Called with each report (on the main thread, once the event loop runs). */
  onHang?: (report: HangReport) => void;
  /** Where the text/JSON report is written: `'stderr'` (default), `'none'`, `{ file }`, or a function. */
  output?: ReportOutput;
  /** `'text'` (a traceback, default) or `'json'` (one line per report). */
  format?: ReportFormat;
  /** Exit code for `action: 'exit'` (default 1). */
  exitCode?: number;
  /** Capture the main thread's stack when the loop is blocked at the deadline (default true). */
  captureStack?: boolean;
  /**
   * Whether the pending deadline keeps the process alive (default true: an operation that hangs
   * with nothing else pending is still reported instead of the process quietly exiting).
   */
  keepAlive?: boolean;
  /** Key/value facts copied into every report of the operation (request method, route, request id, ...). */
  context?: HangContext;
}

/**
 * Facts copied into reports. A value may be a function, called when a report is made — for facts
 * known only later in the operation (an HTTP route pattern is known once the router matched).
 */
export type HangContext = Record<string, HangContextValue | (() => HangContextValue)>;
export type HangContextValue = string | number | boolean;

export interface ResolvedHangOptions {
  timeoutMs: number;
  name: string | undefined;
  action: HangAction;
  repeatMs: number;
  asyncTrace: boolean;
  steps: boolean;
  onHang: ((report: HangReport) => void) | undefined;
  sink: ReportSink;
  exitCode: number;
  captureStack: boolean;
  keepAlive: boolean;
  context: HangContext | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1; // setTimeout's limit
const ACTIONS = ['report', 'reject', 'abort', 'exit'] as const;
const FORMATS = ['text', 'json'] as const;

export function resolveHangOptions(options: unknown): ResolvedHangOptions {
  const o = optionalObject<HangOptions>('options', options, HANG_OPTION_KEYS);
  const timeoutMs = numberOption('timeoutMs', o.timeoutMs, DEFAULT_TIMEOUT_MS, { min: 0, max: MAX_TIMEOUT_MS });
  const action = enumOption('action', o.action, ACTIONS, 'report');
  const repeatMs = numberOption('repeatMs', o.repeatMs, 0, { min: 0, max: MAX_TIMEOUT_MS });
  if (repeatMs > 0 && repeatMs < 1) throw new InvalidOptionError('repeatMs', '0 (off) or at least 1', repeatMs);
  const format = enumOption('format', o.format, FORMATS, 'text');
  return {
    timeoutMs,
    name: stringOption('name', o.name),
    action,
    repeatMs,
    asyncTrace: booleanOption('asyncTrace', o.asyncTrace, false),
    steps: booleanOption('steps', o.steps, false),
    onHang: functionOption<(report: HangReport) => void>('onHang', o.onHang),
    sink: resolveSink('output', o.output, format),
    exitCode: numberOption('exitCode', o.exitCode, 1, { min: 0, max: 255, integer: true }),
    captureStack: booleanOption('captureStack', o.captureStack, true),
    keepAlive: booleanOption('keepAlive', o.keepAlive, true),
    context: contextOption(o.context),
  };
}

function contextOption(value: unknown): HangContext | undefined {
  if (value === undefined) return undefined;
  const context = optionalObject<HangContext>('context', value, ANY_KEYS);
  for (const key in context) {
    const v = context[key];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'function') {
      throw new InvalidOptionError(`context.${key}`, 'a string, number, boolean or a function returning one', v);
    }
  }
  return context as HangContext;
}
