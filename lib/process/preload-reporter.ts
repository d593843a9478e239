/**
 * Where the preload's reports go: stderr and/or one file per report in the report directory,
 * as text or JSON. Writes are synchronous (a report must survive the process exiting right
 * after) and bounded (`maxReports` reports per process); a failing write is reported once and
 * never reaches the program.
 */
import { renderSyncIoText } from '../report/render-sync-io-text.js';
import type { SyncIoReport } from '../report/sync-io-report.js';
import type { HangReport } from '../report/hang-report.js';
import { mkdirSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../atomic-file.js';
import { measureSelfPause } from '../capture/self-pause.js';
import { formatFrame } from '../capture/stack-frame.js';
import type { BlockEvent } from '../loop/index.js';
import { formatMs } from '../report/format-units.js';
import type { PreloadConfig } from './preload-config.js';

/** A block seen only through the delay histogram (no stack: the block monitor is not active). */
export interface DelayBlock {
  schema: 'hangwatch.loop-delay';
  schemaVersion: 1;
  /** Upper bound of when the interval with the delay ended, ISO time. */
  observedAt: string;
  maxDelayMs: number;
  intervalMs: number;
  /** Why no stack is attached. */
  reason: string;
}

/** Text of a block event as the preload prints it (the lead's `renderBlockEventText` may replace it on merge). */
export function blockEventText(event: BlockEvent): string {
  const thread = event.threadId
    ? `, worker thread ${event.threadId}${event.threadName ? ` ${JSON.stringify(event.threadName)}` : ''}`
    : '';
  const lines = [
    `hangwatch: event loop blocked for ${formatMs(event.durationMs)} (block #${event.id}, pid ${process.pid}${thread}, started ${event.startedAt})`,
  ];
  const frames = event.stack ?? event.samples[0]?.frames ?? [];
  for (const frame of frames.slice(0, 20)) lines.push(`    at ${formatFrame(frame)}`);
  if (frames.length > 20) lines.push(`    ... ${frames.length - 20} more frames`);
  if (!frames.length) lines.push(`    (no stack${event.stackError ? `: ${event.stackError}` : ''})`);
  return `${lines.join('\n')}\n`;
}

export function delayBlockText(block: DelayBlock): string {
  return `hangwatch: event loop delayed up to ${formatMs(block.maxDelayMs)} (pid ${process.pid}, interval ending ${block.observedAt}; no stack: ${block.reason})\n`;
}

/**
 * `mkdir -p`, one level at a time. Not `mkdirSync(path, { recursive: true })`: on Node 20 it never
 * returns for some paths (e.g. under /proc, where mkdir fails with ENOENT on an existing parent),
 * and a preload must never hang its host.
 */
export function makeDirectories(absolute: string): void {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      if (statSync(current).isDirectory()) break;
      throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export class PreloadReporter {
  readonly #config: PreloadConfig;
  readonly files: string[] = [];
  #reports = 0;
  #dirReady = false;
  #failed = false;

  constructor(config: PreloadConfig) {
    this.#config = config;
  }

  #stderr(text: string): void {
    if (!this.#config.stderr) return;
    try {
      writeSync(2, text);
    } catch {
      // stderr closed: nothing to do
    }
  }

  #file(name: string, body: string): void {
    const dir = this.#config.reportDir;
    if (dir === undefined || this.#failed) return;
    try {
      const absolute = resolve(dir);
      if (!this.#dirReady) {
        makeDirectories(absolute);
        this.#dirReady = true;
      }
      const path = join(absolute, name);
      measureSelfPause('report', () => writeFileAtomicSync(path, body));
      this.files.push(path);
    } catch (error) {
      this.#failed = true;
      this.#stderr(
        `hangwatch: cannot write reports to ${dir}: ${(error as Error).message}; reports go to stderr only\n`,
      );
    }
  }

  /** A warning about the preload itself (bad configuration, a part that could not start). */
  warn(message: string): void {
    this.#stderr(`hangwatch: ${message}\n`);
  }

  /** True while under the `maxReports` budget; says once when reports stop. */
  #budget(): boolean {
    this.#reports++;
    if (this.#reports === this.#config.maxReports + 1)
      this.warn(
        `${this.#config.maxReports} reports written; further reports of this process are dropped (HANGWATCH_MAX_REPORTS)`,
      );
    return this.#reports <= this.#config.maxReports;
  }

  block(event: BlockEvent): void {
    // The process was not scheduled (BlockEvent.cause): not the program's block, nothing to fix in
    // it. Still on the channel (the doctor and `run` summary see it), not on stderr or in a file.
    if (event.cause === 'starved') return;
    if (!this.#budget()) return;
    const json = this.#config.format === 'json';
    const body = json ? `${JSON.stringify(event)}\n` : blockEventText(event);
    this.#stderr(body);
    // Each thread numbers its own blocks: a worker thread's files carry its thread id.
    this.#file(
      `block-${process.pid}${event.threadId ? `-thread${event.threadId}` : ''}-${event.id}.${json ? 'json' : 'txt'}`,
      body,
    );
  }

  /**
   * A hang of the process-wide watchdog, written while the loop may still be stuck: everything here
   * is synchronous. `text` is the traceback rendering of `report`.
   */
  hang(report: HangReport, text: string): void {
    // A stall of a starved process (HangReport.cause): not the program's hang, as for blocks.
    if (report.cause === 'starved') return;
    if (!this.#budget()) return;
    const json = this.#config.format === 'json';
    const body = json ? `${JSON.stringify(report)}\n` : text;
    this.#stderr(body);
    this.#file(
      `hang-${process.pid}${report.threadId ? `-thread${report.threadId}` : ''}-${report.operationId}-${report.repeat}.${json ? 'json' : 'txt'}`,
      body,
    );
  }

  /** A leak suspicion of the GC monitor (its `message` says what grew). */
  leakSuspicion(suspicion: { message: string }): void {
    if (!this.#budget()) return;
    const json = this.#config.format === 'json';
    const body = json
      ? `${JSON.stringify({ schema: 'hangwatch.gc-leak-suspicion', schemaVersion: 1, pid: process.pid, ...suspicion })}\n`
      : `hangwatch: ${suspicion.message} (pid ${process.pid})\n`;
    this.#stderr(body);
    this.#file(`gc-leak-${process.pid}-${Date.now()}.${json ? 'json' : 'txt'}`, body);
  }

  /** Synchronous I/O after start-up by call site (HANGWATCH_SYNC_IO=1), when the program ends; nothing when there was none. */
  syncIo(report: SyncIoReport): void {
    if (report.sites.length === 0 || !this.#budget()) return;
    const json = this.#config.format === 'json';
    const body = json ? `${JSON.stringify(report)}\n` : renderSyncIoText(report);
    this.#stderr(body);
    this.#file(`sync-io-${process.pid}.${json ? 'json' : 'txt'}`, body);
  }

  delay(block: DelayBlock): void {
    if (!this.#budget()) return;
    const json = this.#config.format === 'json';
    const body = json ? `${JSON.stringify(block)}\n` : delayBlockText(block);
    this.#stderr(body);
    this.#file(`delay-${process.pid}-${Date.parse(block.observedAt)}.${json ? 'json' : 'txt'}`, body);
  }
}
