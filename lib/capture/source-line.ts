/**
 * Read the text of a source line for reports, like Python's traceback does. Files are read once
 * and cached (bounded); unreadable files simply give no line.
 */
import { readFileSync } from 'node:fs';
import type { StackFrame } from './stack-frame.js';

const MAX_FILES = 128;
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const lines = new Map<string, string[] | null>();

export function sourceLineOf(file: string, line: number): string | undefined {
  if (line <= 0 || !file.startsWith('/')) return undefined;
  let content = lines.get(file);
  if (content === undefined) {
    try {
      const text = readFileSync(file, 'utf8');
      content = text.length > MAX_FILE_BYTES ? null : text.split(/\r?\n/);
    } catch {
      content = null;
    }
    if (lines.size >= MAX_FILES) lines.delete(lines.keys().next().value as string);
    lines.set(file, content);
  }
  const text = content?.[line - 1]?.trim();
  return text ? (text.length > 160 ? `${text.slice(0, 160)}…` : text) : undefined;
}

/** Add `sourceLine` to each frame that lacks one. */
export function withSourceLines(frames: StackFrame[]): StackFrame[] {
  return frames.map((f) => (f.sourceLine !== undefined ? f : { ...f, ...optionalLine(sourceLineOf(f.file, f.line)) }));
}

function optionalLine(text: string | undefined): { sourceLine?: string } {
  return text === undefined ? {} : { sourceLine: text };
}
