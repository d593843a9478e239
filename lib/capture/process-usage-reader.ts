/**
 * The interface of a reader of another process's CPU and memory, apart from the choice of
 * backend in process-usage.ts so that backends can import it without a cycle.
 */

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
