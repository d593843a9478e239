/**
 * `traceSyncIo()`: count the synchronous fs / child_process / zlib / crypto calls the main thread
 * makes after start-up, by call site — Node's `--trace-sync-io` prints each one to stderr; this
 * aggregates them (caller function and line, count, total time) into a report.
 *
 * It wraps every `*Sync` function of those modules (on the module objects, and the ESM named
 * exports through `syncBuiltinESMExports`), so calls made through `fs.readFileSync` and
 * `import { readFileSync } from 'node:fs'` are both seen. Before the end of start-up (the first
 * turn of the event loop, or `startupMs`) a call costs one boolean test; after it, a call also
 * costs two clock reads and a short structured stack capture (a few µs — small next to the I/O).
 * hangwatch's own calls are not counted.
 */
import childProcess from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { findSourceMap, syncBuiltinESMExports } from 'node:module';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { isHangwatchFile } from '../capture/own-files.js';
import { urlToFile, type StackFrame } from '../capture/stack-frame.js';
import { mapFrame } from '../capture/source-map.js';
import { withSourceLines } from '../capture/source-line.js';
import { SyncIoTracingError } from './errors.js';
import { REPORT_SCHEMA_VERSION } from '../report/schema.js';
import type { SyncIoReport, SyncIoSite } from '../report/sync-io-report.js';
import { numberOption, optionalObject, optionKeys } from '../validate.js';

export interface TraceSyncIoOptions {
  /** Calls in the first `startupMs` ms are start-up and not counted (default: until the first turn of the event loop). */
  startupMs?: number;
}

export interface SyncIoTracer {
  /** The call sites so far, the most total time first (at most `maxSites`, default 50). */
  report(maxSites?: number): SyncIoReport;
  /** Stop: the modules' functions are put back. Later calls do nothing. */
  stop(): void;
}

/** The module objects (the ESM default exports are the same objects as `require()` returns). */
const MODULES: Array<[string, object]> = [
  ['fs', fs],
  ['child_process', childProcess],
  ['zlib', zlib],
  ['crypto', crypto],
];
/** Frames looked at per call: enough to see a module evaluation below a call made from top-level code. */
const FRAMES = 16;

interface Aggregate {
  call: string;
  file: string;
  line: number;
  column: number;
  functionName: string;
  via: { file: string; line: number; column: number; functionName: string } | undefined;
  count: number;
  totalMs: number;
  maxMs: number;
}

interface Caller {
  file: string;
  line: number;
  column: number;
  functionName: string;
}

const TRACE_SYNC_IO_KEYS = optionKeys<TraceSyncIoOptions>({ startupMs: true });
let active: SyncIoTracer | undefined;

export function traceSyncIo(options?: TraceSyncIoOptions): SyncIoTracer {
  const o = optionalObject<TraceSyncIoOptions>('options', options, TRACE_SYNC_IO_KEYS);
  const startupMs =
    o.startupMs === undefined ? undefined : numberOption('startupMs', o.startupMs, 0, { min: 0, max: 2 ** 31 - 1 });
  if (!isMainThread) throw new SyncIoTracingError('traceSyncIo() traces the main thread only; call it there');
  if (active)
    throw new SyncIoTracingError('synchronous I/O is already being traced in this process; stop() that tracer first');

  const sites = new Map<string, Aggregate>();
  let counting = false;
  let inside = false;
  let sinceMs = 0;
  // The end of start-up: after `startupMs`, or else the first turn of the event loop — its first
  // timers phase or its first check phase, whichever comes first. A check-phase immediate alone
  // is late when the loop starts after a program's own short timer is already due (a loaded
  // machine): that timer's callback runs first, in the timers phase, and would not be counted.
  // A 0 ms timeout set here, before the program's own timers, fires before any of them.
  const armTimeout = setTimeout(() => arm(), startupMs ?? 0).unref();
  const armImmediate = startupMs === undefined ? setImmediate(() => arm()).unref() : undefined;
  const disarm = (): void => {
    clearTimeout(armTimeout);
    if (armImmediate) clearImmediate(armImmediate);
  };
  const arm = (): void => {
    disarm();
    counting = true;
    sinceMs = Date.now();
  };

  const record = (call: string, caller: Caller, via: Caller | undefined, ms: number): void => {
    const key = `${call}\0${caller.file}:${caller.line}:${caller.column}`;
    let a = sites.get(key);
    if (!a) {
      a = { call, ...caller, via, count: 0, totalMs: 0, maxMs: 0 };
      sites.set(key, a);
    }
    a.count++;
    a.totalMs += ms;
    if (ms > a.maxMs) a.maxMs = ms;
  };

  const restore: Array<() => void> = [];
  for (const [name, moduleObject] of MODULES) {
    const mod = moduleObject as Record<string, unknown>;
    for (const key of Object.keys(mod)) {
      const original = mod[key];
      if (!key.endsWith('Sync') || typeof original !== 'function') continue;
      const call = `${name}.${key}`;
      const wrapped = function (this: unknown, ...args: unknown[]): unknown {
        if (!counting || inside) return Reflect.apply(original, this, args);
        inside = true;
        let site: [Caller, Caller | undefined] | undefined;
        try {
          site = callerOf(wrapped);
        } finally {
          inside = false;
        }
        if (!site) return Reflect.apply(original, this, args);
        const t0 = performance.now();
        try {
          return Reflect.apply(original, this, args);
        } finally {
          record(call, site[0], site[1], performance.now() - t0);
        }
      };
      Object.defineProperty(wrapped, 'name', { value: key, configurable: true });
      Object.defineProperty(wrapped, 'length', { value: original.length, configurable: true });
      const descriptor = Object.getOwnPropertyDescriptor(mod, key);
      if (!descriptor?.writable) continue;
      mod[key] = wrapped;
      restore.push(() => {
        if (mod[key] === wrapped) mod[key] = original;
      });
    }
  }
  syncBuiltinESMExports();

  let stopped = false;
  const tracer: SyncIoTracer = {
    report(maxSites = 50) {
      const all = [...sites.values()].sort((a, b) => b.totalMs - a.totalMs);
      let totalCalls = 0;
      let totalMs = 0;
      for (const a of all) {
        totalCalls += a.count;
        totalMs += a.totalMs;
      }
      const listed: SyncIoSite[] = all.slice(0, maxSites).map((a) => {
        const [caller] = withSourceLines([mapCaller(a)]) as [StackFrame];
        const site: SyncIoSite = {
          call: a.call,
          caller,
          count: a.count,
          totalMs: round(a.totalMs),
          maxMs: round(a.maxMs),
        };
        if (a.via) site.via = mapCaller(a.via);
        return site;
      });
      const report: SyncIoReport = {
        schema: 'hangwatch.sync-io',
        schemaVersion: REPORT_SCHEMA_VERSION,
        pid: process.pid,
        since: new Date(sinceMs || Date.now()).toISOString(),
        at: new Date().toISOString(),
        totalCalls,
        totalMs: round(totalMs),
        sites: listed,
      };
      if (all.length > maxSites) report.sitesOmitted = all.length - maxSites;
      return report;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      disarm();
      counting = false;
      for (const undo of restore.splice(0)) undo();
      syncBuiltinESMExports();
      if (active === tracer) active = undefined;
    },
  };
  active = tracer;
  return tracer;
}

/**
 * The frame that made the call, and — when that frame is inside node_modules — the first
 * application frame below it. Undefined for hangwatch's own calls, calls from Node itself only,
 * and calls made while a module is being evaluated (its top-level code: start-up).
 */
function callerOf(above: (...args: never[]) => unknown): [Caller, Caller | undefined] | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_err, callSites) => callSites;
    Error.stackTraceLimit = FRAMES;
    Error.captureStackTrace(holder, above);
    const callSites = holder.stack as NodeJS.CallSite[];
    let caller: Caller | undefined;
    let via: Caller | undefined;
    for (const cs of Array.isArray(callSites) ? callSites : []) {
      const raw = cs.getFileName();
      if (!raw) continue;
      if (raw.startsWith('node:')) {
        // Module evaluation (an ESM module's or a CommonJS module's top-level code) is start-up.
        if (
          raw === 'node:internal/modules/esm/module_job' ||
          (raw === 'node:internal/modules/cjs/loader' && cs.getMethodName() === '_compile')
        )
          return undefined;
        continue;
      }
      const file = urlToFile(raw);
      if (!caller) {
        if (isHangwatchFile(file)) return undefined; // hangwatch's own I/O (lib/, and native-free-fallbacks/: the heap snapshot writer)
        caller = { file, line: cs.getLineNumber() ?? 0, column: cs.getColumnNumber() ?? 0, functionName: nameOf(cs) };
        continue;
      }
      if (
        !via &&
        caller.file.includes('/node_modules/') &&
        !file.includes('/node_modules/') &&
        !isHangwatchFile(file)
      ) {
        via = { file, line: cs.getLineNumber() ?? 0, column: cs.getColumnNumber() ?? 0, functionName: nameOf(cs) };
      }
    }
    return caller ? [caller, via] : undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function nameOf(cs: NodeJS.CallSite): string {
  const fn = cs.getFunctionName();
  const type = cs.getTypeName();
  const method = cs.getMethodName();
  if (fn) return type && !fn.includes('.') && type !== 'Object' && cs.isToplevel() === false ? `${type}.${fn}` : fn;
  if (method) return type ? `${type}.${method}` : method;
  return '(anonymous)';
}

/**
 * The caller's position in its source. Structured call sites are not source-mapped by Node: use
 * the source maps Node holds (`--enable-source-maps`, tsx), else the file's `sourceMappingURL`.
 */
function mapCaller(c: Caller): StackFrame {
  const frame: StackFrame = { functionName: c.functionName, file: c.file, line: c.line, column: c.column };
  try {
    const entry = findSourceMap(c.file)?.findEntry(c.line - 1, c.column - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (entry && typeof entry.originalSource === 'string' && typeof entry.originalLine === 'number') {
      return {
        ...frame,
        file: urlToFile(entry.originalSource),
        line: entry.originalLine + 1,
        column: (entry.originalColumn ?? 0) + 1,
        generated: { file: c.file, line: c.line, column: c.column },
      };
    }
  } catch {
    // no map from Node: try the file's own
  }
  return mapFrame(frame);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
