/**
 * Per-function CPU statistics, the pstats of a sampled profile: sort, cut, print, serialize.
 * Sampling cannot count calls, so where pstats shows `ncalls` this table shows samples.
 */
import { displayPath } from '../report/display-path.js';
import { enumOption, requiredNumber } from '../validate.js';
import type { StackFrame } from '../capture/stack-frame.js';

export interface FunctionStats {
  /** `functionName (file:line)`; the identity used by `callers()` / `callees()`. */
  key: string;
  functionName: string;
  /** Source-mapped file path ('' for V8's synthetic frames such as `(garbage collector)`). */
  file: string;
  /** 1-based line where the function is defined (source-mapped). */
  line: number;
  column: number;
  /** Where V8 saw the function, when a source map moved it. */
  generated?: { file: string; line: number; column: number };
  /** Time with this function as the top frame (pstats `tottime`). */
  selfTimeMs: number;
  /** Time with this function anywhere on the stack (pstats `cumtime`). */
  totalTimeMs: number;
  selfSamples: number;
  totalSamples: number;
  /** Percent of the profiled time. */
  selfPercent: number;
  totalPercent: number;
  /** Hottest source lines of the function: 1-based line → samples as top frame. */
  hotLines?: Array<{ line: number; samples: number }>;
}

export type StatsSortKey = 'self' | 'cumulative' | 'name' | 'file' | 'samples';
export const STATS_SORT_KEYS: readonly StatsSortKey[] = ['self', 'cumulative', 'name', 'file', 'samples'];

export interface StatsSummary {
  /** Profiled time (idle excluded unless asked for), ms. */
  totalTimeMs: number;
  totalSamples: number;
  samplingIntervalUs: number;
}

const COMPARATORS: Record<StatsSortKey, (a: FunctionStats, b: FunctionStats) => number> = {
  self: (a, b) => b.selfTimeMs - a.selfTimeMs || b.totalTimeMs - a.totalTimeMs || a.key.localeCompare(b.key),
  cumulative: (a, b) => b.totalTimeMs - a.totalTimeMs || b.selfTimeMs - a.selfTimeMs || a.key.localeCompare(b.key),
  samples: (a, b) => b.selfSamples - a.selfSamples || b.totalSamples - a.totalSamples || a.key.localeCompare(b.key),
  name: (a, b) => a.functionName.localeCompare(b.functionName) || a.file.localeCompare(b.file) || a.line - b.line,
  file: (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.functionName.localeCompare(b.functionName),
};

const ORDER_LABEL: Record<StatsSortKey, string> = {
  self: 'internal time',
  cumulative: 'cumulative time',
  samples: 'self samples',
  name: 'function name',
  file: 'file name',
};

export interface FormatOptions {
  /** Show paths relative to this directory (default `process.cwd()`); `false` for absolute paths. */
  relativeTo?: string | false;
}

export class CpuStats {
  readonly entries: readonly FunctionStats[];
  readonly summary: StatsSummary;
  readonly sortedBy: StatsSortKey | undefined;

  constructor(entries: readonly FunctionStats[], summary: StatsSummary, sortedBy?: StatsSortKey) {
    this.entries = entries;
    this.summary = summary;
    this.sortedBy = sortedBy;
  }

  get length(): number {
    return this.entries.length;
  }

  [Symbol.iterator](): Iterator<FunctionStats> {
    return this.entries[Symbol.iterator]();
  }

  /** A new table sorted by `key` (`self` and `cumulative` descending, `name` and `file` ascending). */
  sort(key: StatsSortKey = 'cumulative'): CpuStats {
    const by = enumOption('sort key', key, STATS_SORT_KEYS, 'cumulative');
    return new CpuStats([...this.entries].sort(COMPARATORS[by]), this.summary, by);
  }

  /** The first `n` rows in the current order. */
  top(n: number): CpuStats {
    const count = requiredNumber('n', n, { min: 0, integer: true });
    return new CpuStats(this.entries.slice(0, count), this.summary, this.sortedBy);
  }

  /** Rows whose key, function name or file matches. */
  find(match: string | RegExp): FunctionStats[] {
    return this.entries.filter((e) =>
      typeof match === 'string' ? e.key === match || e.functionName === match : match.test(e.key),
    );
  }

  /** A pstats-like table. */
  format(options: FormatOptions = {}): string {
    const { totalTimeMs, totalSamples, samplingIntervalUs } = this.summary;
    const base = options.relativeTo === false ? undefined : (options.relativeTo ?? process.cwd());
    const lines: string[] = [];
    lines.push(
      `         ${totalSamples} samples in ${(totalTimeMs / 1000).toFixed(3)} seconds (sampling interval ${samplingIntervalUs} µs)`,
    );
    lines.push('');
    if (this.sortedBy) lines.push(`   Ordered by: ${ORDER_LABEL[this.sortedBy]}`, '');
    lines.push('  samples  tottime  percent  cumtime  percent  filename:lineno(function)');
    for (const e of this.entries) {
      lines.push(
        `${pad(e.selfSamples, 9)}${pad(sec(e.selfTimeMs), 9)}${pad(pct(e.selfPercent), 9)}${pad(sec(e.totalTimeMs), 9)}${pad(pct(e.totalPercent), 9)}  ${location(e, base)}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  /** Write the table to a stream (default stdout). In a worker thread pass a stream of your own. */
  print(stream: { write(s: string): unknown } = process.stdout, options: FormatOptions = {}): void {
    stream.write(this.format(options));
  }

  toString(): string {
    return this.format();
  }

  toJSON(): { summary: StatsSummary; sortedBy?: StatsSortKey; entries: readonly FunctionStats[] } {
    return { summary: this.summary, ...(this.sortedBy ? { sortedBy: this.sortedBy } : {}), entries: this.entries };
  }
}

function pad(v: string | number, width: number): string {
  return String(v).padStart(width);
}

function sec(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function pct(p: number): string {
  return `${p.toFixed(1)}%`;
}

/** `file:line(function)` like pstats, with a readable path. */
export function location(e: Pick<FunctionStats, 'file' | 'line' | 'functionName'>, base?: string): string {
  if (!e.file) return `{${e.functionName}}`;
  return `${displayPath(e.file, base)}:${e.line}(${e.functionName})`;
}

export function frameOf(e: FunctionStats): StackFrame {
  return {
    functionName: e.functionName,
    file: e.file,
    line: e.line,
    column: e.column,
    ...(e.generated ? { generated: e.generated } : {}),
  };
}
