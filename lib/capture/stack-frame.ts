/**
 * One JS stack frame, in the form every report uses. Positions are 1-based.
 * When a source map was applied, `file`/`line`/`column` are the original (e.g. TypeScript)
 * position and `generated` keeps where V8 actually was.
 */
export interface StackFrame {
  /** Function name as V8 reports it, `(anonymous)` when it has none. */
  functionName: string;
  /** Absolute path for files, the URL otherwise (`node:internal/...`, `evalmachine.<anonymous>`). */
  file: string;
  line: number;
  column: number;
  /** True for frames of an `await` continuation (V8's "at async fn"). */
  async?: boolean;
  /** Text of the source line, trimmed, when it could be read. */
  sourceLine?: string;
  /** The generated position, present when a source map moved the frame. */
  generated?: { file: string; line: number; column: number };
}

/** Frames of Node's own code (`node:` URLs, `internal/`) and of hangwatch itself are usually noise. */
export function isNodeInternal(frame: StackFrame): boolean {
  return (
    frame.file.startsWith('node:') ||
    frame.file.startsWith('internal/') ||
    frame.file === '<anonymous>' ||
    frame.file === 'native'
  );
}

/** `fn (file:line:col)` — one line of a rendered stack, without indentation. */
export function formatFrame(frame: StackFrame): string {
  const where = frame.line > 0 ? `${frame.file}:${frame.line}:${frame.column}` : frame.file;
  return `${frame.async ? 'async ' : ''}${frame.functionName} (${where})`;
}

/** Convert a `file://` URL to a path; leave other URLs as they are. */
export function urlToFile(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return url;
  }
}

// "    at async fnName (file:line:col)" / "    at file:line:col" / "    at new Foo (file:line:col)"
const FRAME_WITH_NAME = /^\s*at (?:(async) )?(.*?) \((.*)\)$/;
const FRAME_BARE = /^\s*at (?:(async) )?(.*)$/;
const LOCATION = /^(.*):(\d+):(\d+)$/;

/**
 * Parse a V8 `Error.stack` string into frames. Lines that are not frames (the message)
 * are skipped; `eval` locations keep their outer position.
 */
export function parseV8Stack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const raw of stack.split('\n')) {
    if (!/^\s*at /.test(raw)) continue;
    const named = FRAME_WITH_NAME.exec(raw);
    let functionName: string;
    let location: string;
    let isAsync: boolean;
    if (named) {
      isAsync = named[1] === 'async';
      functionName = named[2] ?? '';
      location = named[3] ?? '';
      // "eval at fn (file:line:col), <anonymous>:1:2" → use the eval's outer location.
      const evalOuter = /\((.*?:\d+:\d+)\)/.exec(location);
      if (location.startsWith('eval at ') && evalOuter?.[1]) location = evalOuter[1];
    } else {
      const bare = FRAME_BARE.exec(raw);
      if (!bare) continue;
      isAsync = bare[1] === 'async';
      functionName = '';
      location = bare[2] ?? '';
      // "at async Promise.all (index 0)" has no location.
      if (!LOCATION.test(location)) {
        functionName = location;
        location = '<anonymous>';
      }
    }
    const pos = LOCATION.exec(location);
    const frame: StackFrame = {
      functionName: functionName || '(anonymous)',
      file: urlToFile(pos ? (pos[1] ?? location) : location),
      line: pos ? Number(pos[2]) : 0,
      column: pos ? Number(pos[3]) : 0,
    };
    if (isAsync) frame.async = true;
    frames.push(frame);
  }
  return frames;
}

/** Shape of a call frame in the inspector protocol (`Debugger.CallFrame` / `Runtime.CallFrame`). 0-based. */
export interface InspectorCallFrame {
  functionName: string;
  url?: string;
  scriptId?: string;
  lineNumber?: number;
  columnNumber?: number;
  location?: { scriptId: string; lineNumber: number; columnNumber?: number };
}

/** Convert an inspector call frame (0-based positions) into a `StackFrame` (1-based). */
export function fromInspectorFrame(
  frame: InspectorCallFrame,
  urlOfScript?: (scriptId: string) => string | undefined,
): StackFrame {
  const line = frame.location ? frame.location.lineNumber : (frame.lineNumber ?? -1);
  const column = frame.location ? (frame.location.columnNumber ?? 0) : (frame.columnNumber ?? 0);
  const scriptId = frame.location?.scriptId ?? frame.scriptId;
  const url = frame.url || (scriptId && urlOfScript ? urlOfScript(scriptId) : undefined) || '<anonymous>';
  return {
    functionName: frame.functionName || '(anonymous)',
    file: urlToFile(url),
    line: line + 1,
    column: column + 1,
  };
}
