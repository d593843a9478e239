/**
 * Where reports go. Writes are synchronous on purpose: a report is often written while the
 * event loop is blocked or just before the process exits, when async I/O would never complete.
 * A failing sink never throws into the program; the failure is reported once on stderr.
 */
import { writeSync } from 'node:fs';
import { appendFileAtomicSync } from '../atomic-file.js';
import { InvalidOptionError } from '../errors.js';

export type ReportFormat = 'text' | 'json';

/**
 * `'stderr'` (default), `'none'`, `{ file: path }` (appended atomically: the file holds whole reports only,
 * see lib/atomic-file.ts; one file per process), or a function.
 */
export type ReportOutput = 'stderr' | 'none' | { file: string } | ((text: string, report: unknown) => void);

export interface ReportSink {
  write(text: string, json: string, report: unknown): void;
}

const warned = new Set<string>();

function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  try {
    writeSync(2, `hangwatch: ${message}\n`);
  } catch {
    // stderr is gone; nothing else to do.
  }
}

function stderrSink(format: ReportFormat): ReportSink {
  return {
    write(text, json) {
      try {
        writeSync(2, format === 'json' ? `${json}\n` : text);
      } catch (err) {
        warnOnce('stderr', `could not write a report to stderr: ${(err as Error).message}`);
      }
    },
  };
}

// The common sinks are shared: resolving options happens on every call of withHangDetection.
const STDERR_TEXT = stderrSink('text');
const STDERR_JSON = stderrSink('json');
const NONE: ReportSink = { write() {} };

export function resolveSink(name: string, output: unknown, format: ReportFormat): ReportSink {
  const pick = (text: string, json: string): string => (format === 'json' ? `${json}\n` : text);
  if (output === undefined || output === 'stderr') return format === 'json' ? STDERR_JSON : STDERR_TEXT;
  if (output === 'none') return NONE;
  if (typeof output === 'function') {
    const fn = output as (text: string, report: unknown) => void;
    return {
      write(text, json, report) {
        try {
          fn(pick(text, json), report);
        } catch (err) {
          warnOnce('callback', `the report output callback threw: ${(err as Error).message}`);
        }
      },
    };
  }
  if (typeof output === 'object' && output !== null && typeof (output as { file?: unknown }).file === 'string') {
    const file = (output as { file: string }).file;
    return {
      write(text, json) {
        try {
          appendFileAtomicSync(file, pick(text, json));
        } catch (err) {
          warnOnce(`file:${file}`, `could not write a report to ${file}: ${(err as Error).message}`);
        }
      },
    };
  }
  throw new InvalidOptionError(name, `"stderr", "none", { file: string } or a function`, output);
}
