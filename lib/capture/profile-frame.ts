/**
 * Turn the call frames of V8 profiles (CPU and sampling heap) into `StackFrame`s: 1-based
 * positions, paths instead of `file://` URLs, and — when asked — source-mapped to the original
 * (TypeScript) position. Source maps are looked up first in Node's own cache (`module.findSourceMap`:
 * covers tsx, ts-node and `--enable-source-maps`), then through `mapFrame` (inline or on-disk map of
 * the generated file). Resolution is cached per distinct call frame, so a profile of a million
 * samples maps each function once.
 */
import { findSourceMap, type SourceMap } from 'node:module';
import { dirname, resolve as resolvePath } from 'node:path';
import type { ProfileCallFrame } from './profile-format.js';
import { mapFrame } from './source-map.js';
import { fromInspectorFrame, urlToFile, type StackFrame } from './stack-frame.js';

export interface FrameResolverOptions {
  /** Map positions through source maps (default true). */
  sourceMaps?: boolean;
}

/** Frames V8 synthesizes: `(root)`, `(program)`, `(idle)`, `(garbage collector)`, `(V8 API)`... */
export function isSyntheticFrame(cf: ProfileCallFrame): boolean {
  return cf.url === '' && cf.functionName.startsWith('(') && cf.functionName.endsWith(')');
}

/** Longest regular-expression source kept in a `RegExp: …` frame name. */
const REGEXP_SOURCE_CHARS = 48;
/** Longest function name kept (an eval'd or generated name can be any length). */
const FUNCTION_NAME_CHARS = 120;

/**
 * V8 names the code of a regular expression `RegExp: <source>`, with the whole source: one such
 * frame can be hundreds of characters wide in a table. Keep its start (and any other name's) with `…`.
 */
export function shortenFunctionName(name: string): string {
  if (name.startsWith('RegExp: ') && name.length > 8 + REGEXP_SOURCE_CHARS)
    return `${name.slice(0, 8 + REGEXP_SOURCE_CHARS)}…`;
  return name.length > FUNCTION_NAME_CHARS ? `${name.slice(0, FUNCTION_NAME_CHARS - 1)}…` : name;
}

export class ProfileFrameResolver {
  readonly #sourceMaps: boolean;
  readonly #cache = new Map<string, StackFrame>();

  constructor(options: FrameResolverOptions = {}) {
    this.#sourceMaps = options.sourceMaps ?? true;
  }

  resolve(cf: ProfileCallFrame): StackFrame {
    const key = `${cf.scriptId}\0${cf.url}\0${cf.lineNumber}\0${cf.columnNumber}\0${cf.functionName}`;
    let frame = this.#cache.get(key);
    if (frame === undefined) {
      frame = this.#compute(cf);
      this.#cache.set(key, frame);
    }
    return frame;
  }

  #compute(cf: ProfileCallFrame): StackFrame {
    if (isSyntheticFrame(cf) || cf.lineNumber < 0) {
      return {
        functionName: shortenFunctionName(cf.functionName) || '(anonymous)',
        file: cf.url ? urlToFile(cf.url) : '',
        line: 0,
        column: 0,
      };
    }
    const frame = fromInspectorFrame({
      functionName: shortenFunctionName(cf.functionName),
      url: cf.url,
      lineNumber: cf.lineNumber,
      columnNumber: Math.max(0, cf.columnNumber),
    });
    if (!this.#sourceMaps) return frame;
    try {
      return mapWithNodeCache(frame, cf.url) ?? mapFrame(frame);
    } catch {
      return frame;
    }
  }
}

function mapWithNodeCache(frame: StackFrame, url: string): StackFrame | undefined {
  if (!frame.file.startsWith('/') && !url.startsWith('file:')) return undefined;
  let map: SourceMap | undefined;
  try {
    map = findSourceMap(frame.file) ?? (url !== frame.file ? findSourceMap(url) : undefined);
  } catch {
    return undefined;
  }
  if (!map) return undefined;
  const e = map.findEntry(frame.line - 1, frame.column - 1) as Partial<{
    originalSource: string;
    originalLine: number;
    originalColumn: number;
  }>;
  if (typeof e?.originalSource !== 'string' || typeof e.originalLine !== 'number') return undefined;
  const source = urlToFile(e.originalSource);
  return {
    ...frame,
    file: source.startsWith('/') || source.includes(':') ? source : resolvePath(dirname(frame.file), source),
    line: e.originalLine + 1,
    column: (e.originalColumn ?? 0) + 1,
    generated: { file: frame.file, line: frame.line, column: frame.column },
  };
}
