/**
 * What the main thread and the watchdog worker tell each other: the worker's start-up data, the
 * messages it posts, and the capture it hands to the main thread's hook while the main thread is
 * paused. Types only: both sides (watchdog.ts and watchdog-worker.ts) import them from here.
 */
import type { SharedLayout } from './shared-state.js';

/** The worker's `workerData`. */
export interface WatchdogWorkerData {
  /**
   * Where the worker posts its messages: a port of a channel whose other end the main thread can
   * drain synchronously (`receiveMessageOnPort`) when it stops or exits.
   */
  port?: import('node:worker_threads').MessagePort;
  buffer: SharedArrayBuffer;
  layout: SharedLayout;
  /** `Symbol.for(hookKey)` on the main thread's `globalThis` holds a `DeadlineHook`. */
  hookKey: string;
  /** Bound on each command to the paused main thread (the report hook, resume). */
  commandTimeoutMs: number;
  /** How long a capture waits for the main thread to come out of a native call. */
  pauseTimeoutMs: number;
  maxSamplesPerBlock: number;
  /** Write diagnostics to stderr (HANGWATCH_DEBUG=1). */
  debug: boolean;
}

/** A frame as the worker sends it: inspector positions (0-based) and the script's source map URL. */
export interface RawFrame {
  functionName: string;
  url: string;
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

/** The stack of the paused main thread. */
export interface RawCapture {
  frames: RawFrame[];
  /** Source map URL by script id, for the scripts that have one. */
  sourceMaps: Record<string, string>;
  requestedAt: number;
  pausedAt: number;
  /** How long the main thread took to answer the first command (time spent in native code). */
  nativeMs: number;
}

/** One stack sample of a blocked loop. */
export interface RawBlockSample {
  at: number;
  captureMs: number;
  pauseDelayMs: number;
  frames: RawFrame[];
  sourceMaps: Record<string, string>;
}

/**
 * The worker's messages to the main thread. Those about one watched thread carry its `threadId`
 * (0 = the main thread); the main thread passes those of worker threads on to them.
 */
export type WatchdogMessage =
  | { type: 'ready'; stacks: true }
  | { type: 'ready'; stacks: false; reason: string }
  /** The worker's loop failed; it watches nothing more. */
  | { type: 'fatal'; reason: string }
  | WatchdogThreadMessage;

export type WatchdogThreadMessage =
  /** A hang deadline passed while the thread was blocked, and its stack could not be read. */
  | { type: 'capture-failed'; threadId: number; reason: string }
  /** A block ended (the heartbeat moved): its samples. */
  | {
      type: 'block';
      threadId: number;
      /** A worker thread's name (`new Worker(…, { name })`), when the watchdog attached to it. */
      threadName?: string;
      key: number;
      detectedAt: number;
      endedAt: number;
      threshold: number;
      samples: RawBlockSample[];
      error: string;
    }
  /** A worker thread could not be reached (it exited): the watchdog forgot it. */
  | { type: 'thread-lost'; threadId: number; reason: string };

/** The main thread's commands to the worker: worker threads to watch, and to forget. */
export type WatchdogCommand =
  | { type: 'add-thread'; threadId: number; buffer: SharedArrayBuffer; hookKey: string }
  | { type: 'remove-thread'; threadId: number };

/** A thread's hook (on its `globalThis`), run by the worker while it holds that thread paused. */
export interface DeadlineHook {
  /** @param capture a `RawCapture` as JSON. */
  onDeadlineBlocked(capture: string): void;
}
