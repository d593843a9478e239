/**
 * `AllocationFilter`: tracemalloc's `Filter(inclusive, filename_pattern, lineno=None, all_frames=False)`.
 * The pattern is an fnmatch-style glob on the (source-mapped) file path. With `allFrames`, any
 * frame of the trace may match; otherwise only the most recent one.
 */
import { globToRegExp } from '../capture/frame-filter.js';
import type { StackFrame } from '../capture/stack-frame.js';
import { InvalidOptionError } from '../errors.js';
import { booleanOption, numberOption, stringOption } from '../validate.js';

export interface AllocationFilterSpec {
  /** true: keep only matching traces; false: drop matching traces. */
  inclusive: boolean;
  filenamePattern: string;
  /** 1-based line; omit to match every line. */
  lineno?: number;
  allFrames?: boolean;
}

export class AllocationFilter implements AllocationFilterSpec {
  readonly inclusive: boolean;
  readonly filenamePattern: string;
  readonly lineno: number | undefined;
  readonly allFrames: boolean;
  readonly #pattern: RegExp;

  constructor(inclusive: boolean, filenamePattern: string, lineno?: number, allFrames = false) {
    if (typeof inclusive !== 'boolean') throw new InvalidOptionError('inclusive', 'a boolean', inclusive);
    const pattern = stringOption('filenamePattern', filenamePattern);
    if (pattern === undefined) throw new InvalidOptionError('filenamePattern', 'a string', filenamePattern);
    this.inclusive = inclusive;
    this.filenamePattern = pattern;
    this.lineno = lineno === undefined ? undefined : numberOption('lineno', lineno, 0, { min: 1, integer: true });
    this.allFrames = booleanOption('allFrames', allFrames, false);
    this.#pattern = globToRegExp(pattern);
  }

  static from(spec: AllocationFilterSpec | AllocationFilter, index = 0): AllocationFilter {
    if (spec instanceof AllocationFilter) return spec;
    if (!spec || typeof spec !== 'object')
      throw new InvalidOptionError(`filters[${index}]`, 'an AllocationFilter or { inclusive, filenamePattern }', spec);
    return new AllocationFilter(spec.inclusive, spec.filenamePattern, spec.lineno, spec.allFrames ?? false);
  }

  #matchesFrame(frame: StackFrame): boolean {
    if (!this.#pattern.test(frame.file)) return false;
    return this.lineno === undefined || frame.line === this.lineno;
  }

  /** Whether the pattern (and line) match the trace's stack (most recent frame first). */
  matches(frames: readonly StackFrame[]): boolean {
    if (this.allFrames) return frames.some((f) => this.#matchesFrame(f));
    const top = frames[0];
    return top !== undefined && this.#matchesFrame(top);
  }

  toJSON(): AllocationFilterSpec {
    return {
      inclusive: this.inclusive,
      filenamePattern: this.filenamePattern,
      ...(this.lineno !== undefined ? { lineno: this.lineno } : {}),
      allFrames: this.allFrames,
    };
  }
}

/** tracemalloc's rule: keep a trace if it matches at least one inclusive filter (when any) and no exclusive one. */
export function keepTrace(filters: readonly AllocationFilter[], frames: readonly StackFrame[]): boolean {
  let sawInclusive = false;
  let included = false;
  for (const f of filters) {
    if (f.inclusive) {
      sawInclusive = true;
      if (!included && f.matches(frames)) included = true;
    } else if (f.matches(frames)) return false;
  }
  return !sawInclusive || included;
}
