/** Synchronous I/O on the main thread after start-up, aggregated by call site (`traceSyncIo`, HANGWATCH_SYNC_IO=1). */
import type { StackFrame } from '../capture/stack-frame.js';
import type { REPORT_SCHEMA_VERSION } from './schema.js';

/** One call site of a synchronous I/O function. */
export interface SyncIoSite {
  /** The function called: `fs.readFileSync`, `child_process.execSync`, `zlib.gzipSync`, `crypto.pbkdf2Sync`, ... */
  call: string;
  /** The frame that called it (source-mapped, with its source line). */
  caller: StackFrame;
  /** When the caller is inside node_modules: the application frame that led to it. */
  via?: StackFrame;
  count: number;
  /** Time spent inside the calls, in ms. */
  totalMs: number;
  maxMs: number;
}

export interface SyncIoReport {
  schema: 'hangwatch.sync-io';
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  pid: number;
  /** When tracing started counting (the end of start-up). */
  since: string;
  at: string;
  totalCalls: number;
  totalMs: number;
  /** Call sites, the most total time first. */
  sites: SyncIoSite[];
  /** Call sites left out (a report lists at most 50). */
  sitesOmitted?: number;
}
