/** Paths as reports show them: relative to a base directory when that is shorter and clearer. */
import { relative, sep } from 'node:path';

export function displayPath(file: string, base?: string): string {
  if (!base || !file.startsWith('/')) return file;
  const rel = relative(base, file);
  return rel.startsWith(`..${sep}..`) ? file : rel;
}
