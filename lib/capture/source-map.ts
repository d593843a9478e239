/**
 * Map generated positions back to original sources (TypeScript, bundles) with Node's built-in
 * `module.SourceMap`. Works for inline `data:` maps and map files, whether or not the program
 * runs with `--enable-source-maps`, and in worker threads. All lookups are cached and every
 * failure degrades to "no mapping" — a bad source map never breaks a report.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve as resolvePath } from 'node:path';
import type { StackFrame } from './stack-frame.js';

const MAP_URL_COMMENT = /\/\/[#@] sourceMappingURL=([^\s'"]+)\s*$/;
const MAX_MAP_CACHE = 256;

/** null = known to have no usable map. */
const mapCache = new Map<string, SourceMap | null>();

/**
 * Find and parse the source map of a script. `sourceMapURL` is what V8 reported for the script
 * (inspector `scriptParsed`); without it, the `sourceMappingURL` comment of the file on disk is used.
 */
export function sourceMapFor(file: string, sourceMapURL?: string): SourceMap | null {
  const key = `${file}\0${sourceMapURL ?? ''}`;
  const cached = mapCache.get(key);
  if (cached !== undefined) return cached;
  let map: SourceMap | null = null;
  try {
    const url = sourceMapURL || findMapComment(file);
    const payload = url ? loadPayload(url, file) : undefined;
    if (payload) map = new SourceMap(payload);
  } catch {
    map = null;
  }
  if (mapCache.size >= MAX_MAP_CACHE) mapCache.delete(mapCache.keys().next().value as string);
  mapCache.set(key, map);
  return map;
}

function findMapComment(file: string): string | undefined {
  if (!file.startsWith('/')) return undefined;
  const text = readFileSync(file, 'utf8');
  const tail = text.slice(Math.max(0, text.length - 1_000_000)).trimEnd();
  const lastLine = tail.slice(tail.lastIndexOf('\n') + 1);
  return MAP_URL_COMMENT.exec(lastLine)?.[1];
}

function loadPayload(url: string, file: string): ConstructorParameters<typeof SourceMap>[0] | undefined {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = url.slice(5, comma);
    const data = url.slice(comma + 1);
    const json = meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
    return JSON.parse(json);
  }
  const mapPath = url.startsWith('file://') ? new URL(url).pathname : resolvePath(dirname(file), url);
  return JSON.parse(readFileSync(mapPath, 'utf8'));
}

/**
 * Apply the source map of the frame's script, if any. Returns a new frame; the input is not changed.
 */
export function mapFrame(frame: StackFrame, sourceMapURL?: string): StackFrame {
  if (frame.line <= 0 || frame.generated) return frame;
  const map = sourceMapFor(frame.file, sourceMapURL);
  if (!map) return frame;
  let entry: ReturnType<SourceMap['findEntry']>;
  try {
    entry = map.findEntry(frame.line - 1, frame.column - 1);
  } catch {
    return frame;
  }
  const e = entry as Partial<{ originalSource: string; originalLine: number; originalColumn: number; name: string }>;
  if (!e || typeof e.originalSource !== 'string' || typeof e.originalLine !== 'number') return frame;
  const original = e.originalSource.startsWith('file://')
    ? decodeURIComponent(new URL(e.originalSource).pathname)
    : e.originalSource.startsWith('/') || !frame.file.startsWith('/')
      ? e.originalSource
      : resolvePath(dirname(frame.file), e.originalSource);
  return {
    ...frame,
    file: original,
    line: e.originalLine + 1,
    column: (e.originalColumn ?? 0) + 1,
    generated: { file: frame.file, line: frame.line, column: frame.column },
  };
}
