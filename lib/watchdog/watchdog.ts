/**
 * The one watchdog worker of the process, shared by hang detection and the block monitor.
 *
 * The main thread never messages the worker per operation: it writes numbers into shared memory
 * (next deadline, heartbeat) and the worker watches them on its own clock. The worker is
 * `unref()`ed (it never keeps the process alive) and started lazily by the first user.
 */
import { randomUUID } from 'node:crypto';
import { url as inspectorUrl } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { isMainThread, MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { fromInspectorFrame, type StackFrame } from '../capture/stack-frame.js';
import { mapFrame } from '../capture/source-map.js';
import { withSourceLines } from '../capture/source-line.js';
import {
  F_BLOCK_KEY,
  F_DEADLINES_DONE,
  F_HEARTBEAT,
  F_NEXT_DEADLINE,
  DEADLINE_GRACE_MS,
  I_BLOCK_THRESHOLD,
  I_DEADLINE_GRACE,
  I_EXIT_ACK,
  I_EXITING,
  I_SAMPLE_INTERVAL,
  SHARED_LAYOUT,
  createSharedState,
  wakeWorker,
  type SharedState,
} from './shared-state.js';
import { processSingleton } from './process-registry.js';
import { WATCHDOG_WORKER_SOURCE } from './watchdog-worker.js';
import type { DeadlineHook, RawCapture, RawFrame, WatchdogMessage, WatchdogWorkerData } from './worker-protocol.js';

export type { RawFrame } from './worker-protocol.js';

export interface BlockSamplesMessage {
  key: number;
  detectedAt: number;
  endedAt: number;
  samples: { at: number; captureMs: number; pauseDelayMs: number; frames: StackFrame[] }[];
  error: string;
}

/** Called on the main thread while it is paused, blocked past a hang deadline. */
export type BlockedDeadlineHandler = (
  frames: StackFrame[] | undefined,
  capturedAt: number,
  stackUnavailable: string | undefined,
  pauseDelayMs: number,
) => void;

const COMMAND_TIMEOUT_MS = 1000;
/** How long a capture waits for the main thread to come out of a native call it cannot interrupt. */
const PAUSE_TIMEOUT_MS = 10_000;
const MAX_SAMPLES_PER_BLOCK = 50;
/** How long exit waits, at most, for the worker to drop its inspector session. */
const EXIT_ACK_TIMEOUT_MS = 200;
/** How long stopping or exit waits, at most, for the worker to finish a block it is sampling. */
const DRAIN_WAIT_MS = 100;
/** `whenReady()` resolves after this even if the worker never answered. */
const READY_TIMEOUT_MS = 10_000;

/** Resolve frames from the worker into source-mapped StackFrames with source lines. */
export function resolveFrames(frames: RawFrame[], sourceMaps: Record<string, string>): StackFrame[] {
  return withSourceLines(
    frames.map((raw) => mapFrame(fromInspectorFrame({ ...raw, location: undefined }), sourceMaps[raw.scriptId] || undefined)),
  );
}

export class Watchdog {
  readonly state: SharedState = createSharedState();
  private worker: Worker | undefined;
  /** This thread's end of the channel the worker posts on. */
  private port: MessagePort | undefined;
  private readonly hookKey = `hangwatch.watchdog.${randomUUID()}`;
  private deadlineHandler: BlockedDeadlineHandler | undefined;
  private readonly blockListeners = new Set<(msg: BlockSamplesMessage) => void>();
  private readonly leases = new Set<object>();
  /** Why main-thread stacks cannot be captured, once known. */
  stackUnavailable: string | undefined;
  /** The reason of the last failed capture, for reports. */
  lastCaptureError: string | undefined;
  private readonly monitors = new Map<object, { thresholdMs: number; sampleIntervalMs: number }>();
  private readyWaiters: Array<() => void> = [];
  private isReady = false;

  /** @param unavailable set: this watchdog never starts a worker, for this reason. */
  constructor(unavailable?: string) {
    this.stackUnavailable = unavailable;
    Atomics.store(this.state.i32, I_DEADLINE_GRACE, DEADLINE_GRACE_MS);
    const hooks: DeadlineHook = {
      onDeadlineBlocked: (json: string): void => this.onDeadlineBlocked(json),
    };
    Object.defineProperty(globalThis, Symbol.for(this.hookKey), { value: hooks, configurable: true });
  }

  /** Start the worker (idempotent). `owner` holds it until `release(owner)`. */
  acquire(owner: object): void {
    this.leases.add(owner);
    if (this.worker || this.stackUnavailable) return;
    if (inspectorUrl() !== undefined && process.env.HANGWATCH_STACKS_WITH_DEBUGGER !== '1') {
      // A debugger may be attached: pausing and resuming would fight with it.
      this.stackUnavailable = 'an inspector is open in this process (--inspect); hangwatch does not pause the main thread under a debugger (set HANGWATCH_STACKS_WITH_DEBUGGER=1 to force)';
      return;
    }
    try {
      const channel = new MessageChannel();
      const workerData: WatchdogWorkerData = {
        port: channel.port2,
        buffer: this.state.buffer,
        layout: SHARED_LAYOUT,
        hookKey: this.hookKey,
        commandTimeoutMs: COMMAND_TIMEOUT_MS,
        pauseTimeoutMs: PAUSE_TIMEOUT_MS,
        maxSamplesPerBlock: MAX_SAMPLES_PER_BLOCK,
        debug: process.env.HANGWATCH_DEBUG === '1',
      };
      const worker = new Worker(WATCHDOG_WORKER_SOURCE, {
        eval: true,
        name: 'hangwatch-watchdog',
        workerData,
        stdout: false,
        stderr: false,
        // The worker needs none of the program's flags (e.g. --import of a loader).
        execArgv: [],
        resourceLimits: { maxOldGenerationSizeMb: 64 },
        transferList: [channel.port2],
      });
      // Listeners first: attaching a 'message' listener after unref() would ref the port again.
      channel.port1.on('message', (msg: WatchdogMessage) => this.onWorkerMessage(msg));
      channel.port1.unref();
      this.port = channel.port1;
      worker.on('error', (err) => this.disable(`the watchdog worker failed: ${err.message}`));
      worker.on('exit', () => {
        if (this.worker === worker) {
          this.worker = undefined;
          if (this.leases.size > 0 && !this.stackUnavailable) this.stackUnavailable = 'the watchdog worker exited';
        }
      });
      worker.unref();
      this.worker = worker;
      process.on('exit', this.onExit);
    } catch (err) {
      this.disable(`the watchdog worker could not start: ${(err as Error).message}`);
    }
  }

  /** Drop `owner`'s hold; the worker stops when nobody holds it. */
  release(owner: object): void {
    this.leases.delete(owner);
    this.monitors.delete(owner);
    this.applyMonitors();
    if (this.leases.size === 0) this.stopWorker();
  }

  /** Resolves once the worker can capture stacks, or once it is known that it cannot. */
  whenReady(): Promise<void> {
    if (this.isReady || this.stackUnavailable || !this.worker) return Promise.resolve();
    return new Promise((resolve) => {
      // Ref'd on purpose: a caller awaiting this keeps the process alive until the worker answers
      // (the worker itself is unref'd), and never longer than the bound.
      const timer = setTimeout(done, READY_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.readyWaiters.push(done);
    });
  }

  private settleReady(): void {
    this.isReady = true;
    this.flushReadyWaiters();
  }

  private flushReadyWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  setDeadlineHandler(handler: BlockedDeadlineHandler | undefined): void {
    this.deadlineHandler = handler;
  }

  /** The main thread now waits for `deadline` (epoch ms); 0 when nothing is pending. */
  publishNextDeadline(deadline: number): void {
    const f64 = this.state.f64;
    if (f64[F_NEXT_DEADLINE] === deadline) return;
    f64[F_NEXT_DEADLINE] = deadline;
    wakeWorker(this.state);
  }

  /** The main thread processed every deadline up to `now`. */
  markDeadlinesDone(now: number): void {
    this.state.f64[F_DEADLINES_DONE] = now;
  }

  /** A block monitor wants blocks of at least `thresholdMs` sampled every `sampleIntervalMs`. */
  setMonitor(owner: object, thresholdMs: number, sampleIntervalMs: number): void {
    this.monitors.set(owner, { thresholdMs, sampleIntervalMs });
    this.applyMonitors();
  }

  heartbeat(now: number): void {
    this.state.f64[F_HEARTBEAT] = now;
  }

  onBlockSamples(listener: (msg: BlockSamplesMessage) => void): () => void {
    this.blockListeners.add(listener);
    return () => this.blockListeners.delete(listener);
  }

  private applyMonitors(): void {
    let threshold = 0;
    let interval = 0;
    for (const m of this.monitors.values()) {
      threshold = threshold === 0 ? m.thresholdMs : Math.min(threshold, m.thresholdMs);
      interval = interval === 0 ? m.sampleIntervalMs : Math.min(interval, m.sampleIntervalMs);
    }
    Atomics.store(this.state.i32, I_BLOCK_THRESHOLD, Math.round(threshold));
    Atomics.store(this.state.i32, I_SAMPLE_INTERVAL, Math.round(interval));
    if (threshold === 0) this.state.f64[F_HEARTBEAT] = 0;
    wakeWorker(this.state);
  }

  private onWorkerMessage(msg: WatchdogMessage): void {
    switch (msg.type) {
      case 'ready':
        if (!msg.stacks) this.disable(msg.reason);
        this.settleReady();
        break;
      case 'capture-failed':
        this.lastCaptureError = msg.reason;
        break;
      case 'block': {
        const out: BlockSamplesMessage = {
          key: msg.key,
          detectedAt: msg.detectedAt,
          endedAt: msg.endedAt,
          samples: msg.samples.map((sample) => ({
            at: sample.at,
            captureMs: sample.captureMs,
            pauseDelayMs: sample.pauseDelayMs,
            frames: resolveFrames(sample.frames, sample.sourceMaps),
          })),
          error: msg.error,
        };
        for (const l of this.blockListeners) l(out);
        break;
      }
      case 'fatal':
        this.disable(`the watchdog worker stopped: ${msg.reason.split('\n')[0]}`);
        break;
    }
  }

  /** Runs on the main thread while the worker holds it paused (see watchdog-worker.ts). */
  private onDeadlineBlocked(json: string): void {
    const handler = this.deadlineHandler;
    if (!handler) return;
    let frames: StackFrame[] | undefined;
    let unavailable: string | undefined;
    let capturedAt = Date.now();
    let pauseDelayMs = 0;
    try {
      const capture = JSON.parse(json) as RawCapture;
      capturedAt = capture.pausedAt;
      pauseDelayMs = capture.nativeMs;
      frames = resolveFrames(capture.frames, capture.sourceMaps);
    } catch (err) {
      unavailable = `the captured stack could not be read: ${(err as Error).message}`;
    }
    handler(frames, capturedAt, unavailable, pauseDelayMs);
  }

  private disable(reason: string): void {
    if (!this.stackUnavailable) this.stackUnavailable = reason;
    this.stopWorker();
    this.settleReady();
  }

  /**
   * The process is exiting: have the worker drop its inspector session (if it holds one) before
   * Node checks for connected debuggers — a session still connected to the main thread makes exit
   * print "Waiting for the debugger to disconnect...". Bounded: exit never waits long on hangwatch.
   */
  private readonly onExit = (): void => {
    if (!this.worker) return;
    const i32 = this.state.i32;
    Atomics.store(i32, I_EXITING, 1);
    Atomics.notify(i32, I_EXITING);
    Atomics.wait(i32, I_EXIT_ACK, 0, EXIT_ACK_TIMEOUT_MS);
    // The end of the session is a message to this thread, handled at its next interrupt check:
    // run a little JavaScript so that it is handled before Node's own exit checks.
    drainInterrupts();
  };

  /**
   * Handle now the messages the worker has posted that this thread has not received yet — a
   * block's samples on their way when a monitor stops or the program ends. When the worker is
   * still sampling a block that has ended (the heartbeat moved), wake it and wait for it to finish
   * that block, at most DRAIN_WAIT_MS.
   */
  drainMessages(): void {
    const port = this.port;
    if (!port || !this.worker) return;
    if (this.state.f64[F_BLOCK_KEY] !== 0) {
      wakeWorker(this.state);
      const until = performance.now() + DRAIN_WAIT_MS;
      while (this.state.f64[F_BLOCK_KEY] !== 0 && performance.now() < until) Atomics.wait(sleeper, 0, 0, 2);
    }
    for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) {
      this.onWorkerMessage(received.message as WatchdogMessage);
    }
  }

  private stopWorker(): void {
    const worker = this.worker;
    if (!worker) return;
    process.off('exit', this.onExit);
    this.port?.close();
    this.port = undefined;
    this.worker = undefined;
    this.isReady = false;
    this.flushReadyWaiters();
    void worker.terminate().catch(() => {});
  }
}

/** Something to Atomics.wait on that nobody notifies: a short sleep of the main thread. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function drainInterrupts(): void {
  // Function calls are interrupt checks; a few suffice.
  for (let i = 0; i < 4; i++) noop();
}

function noop(): void {}

/** Why a stack of the blocked main thread cannot be captured from this thread, if it cannot. */
export function whyNoStacks(watchdog: Watchdog | undefined): string | undefined {
  if (!isMainThread) return 'stacks of a blocked loop are captured on the main thread only';
  return watchdog?.stackUnavailable;
}

let instance: Watchdog | undefined;

/**
 * The process's watchdog (main thread only), shared by every copy of hangwatch loaded in the
 * process. A copy that cannot join the registry gets a watchdog that never starts (no stacks).
 */
export function getWatchdog(): Watchdog {
  instance ??= processSingleton('watchdog', () => new Watchdog(), (reason) => new Watchdog(reason));
  return instance;
}
