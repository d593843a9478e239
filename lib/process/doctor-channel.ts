/**
 * The channel from a preloaded program to the `hangwatch` CLI that started it: an append-only
 * NDJSON file whose path is in `HANGWATCH_CHANNEL`. A file (not IPC) because the program may be
 * behind a wrapper (`npm start`, a shell) and may itself start other Node processes: every
 * preloaded process appends its own records, tagged with its pid, and each record is written
 * with one `write` on an O_APPEND descriptor, so lines from different processes do not interleave.
 */
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import type { SelfPause } from '../capture/self-pause.js';
import type { BlockEvent } from '../loop/index.js';
import type { SyncIoReport } from '../report/sync-io-report.js';
import type { IntervalSample } from './interval-sampler.js';

export const CHANNEL_ENV = 'HANGWATCH_CHANNEL';

export interface HelloRecord {
  type: 'hello';
  pid: number;
  ppid: number;
  argv: string[];
  nodeVersion: string;
  startedAt: string;
  intervalMs: number;
  /** Date.now() when the sampler started: its samples' `t` counts from here. */
  samplerEpochMs: number;
  /** Which parts of the preload are active, and why a part is not. */
  features: { blockStacks: boolean; blockStacksError?: string };
}
export interface SampleRecord {
  type: 'sample';
  pid: number;
  sample: IntervalSample;
}
export interface BlockRecord {
  type: 'block';
  pid: number;
  event: BlockEvent;
}
export interface ExitRecord {
  type: 'exit';
  pid: number;
  exitCode: number;
  /** Report files the preload wrote. */
  reportFiles: string[];
}
/** A heap snapshot the preload wrote on the CLI's request (HANGWATCH_SNAPSHOT_AT_MS). */
export interface HeapSnapshotRecord {
  type: 'heap-snapshot';
  pid: number;
  path: string;
  takenAt: string;
}
/** Synchronous I/O after start-up by call site (HANGWATCH_SYNC_IO=1), written when the program ends. */
export interface SyncIoRecord {
  type: 'sync-io';
  pid: number;
  report: SyncIoReport;
}
/** A pause of the program by hangwatch itself (a heap snapshot, the CPU profiler, a report). */
export interface SelfPauseRecord {
  type: 'self-pause';
  pid: number;
  pause: SelfPause;
}
export type ChannelRecord =
  | HelloRecord
  | SampleRecord
  | BlockRecord
  | ExitRecord
  | HeapSnapshotRecord
  | SyncIoRecord
  | SelfPauseRecord;

export class ChannelWriter {
  #fd: number | undefined;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  /** Write one record; false (and the channel closed) when the write failed. Never throws. */
  write(record: ChannelRecord): boolean {
    if (this.#fd === undefined) return false;
    try {
      writeSync(this.#fd, `${JSON.stringify(record)}\n`);
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = undefined;
  }
}

/** Reads the records appended since the last call; a partial last line waits for the next call. */
export class ChannelReader {
  readonly #path: string;
  #offset = 0;
  #partial: Buffer = Buffer.alloc(0);
  /** Lines that were not valid records (counted, not thrown: the program may have been killed mid-write). */
  malformed = 0;

  constructor(path: string) {
    this.#path = path;
  }

  readNew(): ChannelRecord[] {
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return [];
    }
    const chunks: Buffer[] = [this.#partial];
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(64 * 1024);
      while (this.#offset < size) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
    // Split on the last newline byte, so a multi-byte character cut by a read is never decoded in halves.
    const bytes = Buffer.concat(chunks);
    const end = bytes.lastIndexOf(0x0a) + 1;
    this.#partial = bytes.subarray(end);
    const lines = bytes.toString('utf8', 0, end).split('\n');
    const records: ChannelRecord[] = [];
    for (const line of lines) {
      if (!line) continue;
      try {
        const record = JSON.parse(line) as ChannelRecord;
        if (record && typeof record === 'object' && typeof record.type === 'string' && typeof record.pid === 'number')
          records.push(record);
        else this.malformed++;
      } catch {
        this.malformed++;
      }
    }
    return records;
  }
}
