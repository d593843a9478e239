/**
 * Which frames of a profile a view keeps: Node internals on or off, and path patterns. Patterns are
 * strings or RegExps matched against the (source-mapped) file path; a string with `*`, `?` or
 * `[...]` is a shell-style glob where `*` also crosses `/` (like Python's `fnmatch`, which
 * tracemalloc's `Filter` uses); a plain string matches that file or everything under that directory.
 */
import { InvalidOptionError } from '../errors.js';
import { isNodeInternal, type StackFrame } from './stack-frame.js';

export type PathPattern = string | RegExp;

export interface FrameFilterOptions {
  /** Hide `node:` and `internal/` frames (default false). */
  excludeNodeInternals?: boolean;
  /** Keep only frames whose file matches one of these (default: all). */
  include?: PathPattern[];
  /** Hide frames whose file matches one of these. */
  exclude?: PathPattern[];
}

const globCache = new Map<string, RegExp>();

/** Translate an fnmatch-style glob into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) src += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        src += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else src += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  re = new RegExp(`^${src}$`, 's');
  if (globCache.size > 512) globCache.clear();
  globCache.set(glob, re);
  return re;
}

export function matchesPath(pattern: PathPattern, file: string): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(file);
  }
  if (/[*?[]/.test(pattern)) return globToRegExp(pattern).test(file);
  return file === pattern || file.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
}

export function validatePatterns(name: string, value: unknown): PathPattern[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' || value instanceof RegExp ? [value] : value;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' || p instanceof RegExp)) {
    throw new InvalidOptionError(name, 'a string, a RegExp, or an array of them', value);
  }
  return list as PathPattern[];
}

/** A compiled, validated frame predicate. */
export class FrameFilter {
  readonly excludeNodeInternals: boolean;
  readonly include: readonly PathPattern[];
  readonly exclude: readonly PathPattern[];

  constructor(options: FrameFilterOptions = {}, prefix = '') {
    const ex = options.excludeNodeInternals;
    if (ex !== undefined && typeof ex !== 'boolean')
      throw new InvalidOptionError(`${prefix}excludeNodeInternals`, 'a boolean', ex);
    this.excludeNodeInternals = ex ?? false;
    this.include = validatePatterns(`${prefix}include`, options.include);
    this.exclude = validatePatterns(`${prefix}exclude`, options.exclude);
  }

  get isEmpty(): boolean {
    return !this.excludeNodeInternals && this.include.length === 0 && this.exclude.length === 0;
  }

  /** Whether a frame with a file stays visible. Frames without a file (V8's `(program)`...) always do. */
  keeps(frame: StackFrame): boolean {
    if (!frame.file) return true;
    if (this.excludeNodeInternals && isNodeInternal(frame)) return false;
    if (this.include.length && !this.include.some((p) => matchesPath(p, frame.file))) return false;
    return !this.exclude.some((p) => matchesPath(p, frame.file));
  }

  toJSON(): FrameFilterOptions {
    return { excludeNodeInternals: this.excludeNodeInternals, include: [...this.include], exclude: [...this.exclude] };
  }
}
