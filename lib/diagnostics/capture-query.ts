/** The query of a capture request: `?seconds=` (bounded) and `?format=` (one of a list). */
import { DiagnosticsBadRequestError } from './errors.js';

export interface CaptureLimits {
  /** Capture length when `?seconds=` is not given. */
  defaultSeconds: number;
  /** Longest capture. */
  maxSeconds: number;
}

export function captureSeconds(url: URL, { defaultSeconds, maxSeconds }: CaptureLimits): number {
  const raw = url.searchParams.get('seconds');
  if (raw === null) return defaultSeconds;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > maxSeconds)
    throw new DiagnosticsBadRequestError(`seconds must be a number in (0, ${maxSeconds}]`);
  return s;
}

/** `?format=`, the first of `allowed` when absent. */
export function captureFormat(url: URL, allowed: string[]): string {
  const f = url.searchParams.get('format') ?? (allowed[0] as string);
  if (!allowed.includes(f)) throw new DiagnosticsBadRequestError(`format must be one of ${allowed.join(', ')}`);
  return f;
}
