/**
 * CPU and memory of another process, from outside: one interface, two backends.
 *   - procfs (native-free-fallbacks/procfs-process-usage.ts): reads /proc on Linux — no
 *     subprocess, clock-tick precision, plus the thread count and state;
 *   - pidusage (pidusage-process-usage.ts): the `pidusage` package wherever there is no /proc —
 *     `ps` on macOS and the BSDs, `wmic` or PowerShell on Windows.
 * `createProcessUsageReader()` picks /proc when it is there; `HANGWATCH_PROCESS_SAMPLER`
 * (`procfs` | `pidusage` | `auto`) forces one, so that the pidusage path can be tested on Linux.
 */
import { procfsAvailable, ProcfsUsageReader } from '../../native-free-fallbacks/procfs-process-usage.js';
import { InvalidOptionError } from '../errors.js';
import { PidusageUsageReader } from './pidusage-process-usage.js';

export interface ProcessUsage {
  pid: number;
  /**
   * Share of one core used since the previous reading of the same pid by the same reader
   * (100 = one full core); the first reading of a pid is the average since the process started.
   */
  cpuPercent: number;
  rssBytes: number;
  /** User + system CPU time since the process started, ms. */
  cpuTimeMs: number;
  /** Milliseconds since the process started. */
  elapsedMs: number;
  ppid?: number;
  /** procfs only: command name, one-letter state, thread count. */
  name?: string;
  state?: string;
  threads?: number;
}

export type ProcessUsageSource = 'procfs' | 'pidusage';

export interface ProcessUsageReader {
  readonly source: ProcessUsageSource;
  /**
   * @throws (rejects with) ProcessNotFoundError when no such process exists
   * @throws (rejects with) ProcessSamplingUnsupportedError when this backend cannot work here
   */
  read(pid: number): Promise<ProcessUsage>;
  /** Drop what is kept about `pid` (its previous reading). */
  forget(pid: number): void;
}

export const PROCESS_SAMPLER_ENV = 'HANGWATCH_PROCESS_SAMPLER';
const BACKENDS = ['auto', 'procfs', 'pidusage'] as const;
export type ProcessUsageBackend = (typeof BACKENDS)[number];

/**
 * A reader for the chosen backend: `auto` (default, or from `HANGWATCH_PROCESS_SAMPLER`) is
 * /proc where it exists, else pidusage.
 *
 * @throws InvalidOptionError for an unknown backend name
 */
export function createProcessUsageReader(backend: string = process.env[PROCESS_SAMPLER_ENV] || 'auto'): ProcessUsageReader {
  if (!(BACKENDS as readonly string[]).includes(backend)) throw new InvalidOptionError(PROCESS_SAMPLER_ENV, `one of ${BACKENDS.join(', ')}`, backend);
  if (backend === 'procfs' || (backend === 'auto' && procfsAvailable())) return new ProcfsUsageReader();
  return new PidusageUsageReader();
}
