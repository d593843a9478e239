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
import {
  isMainThread,
  MessageChannel,
  receiveMessageOnPort,
  threadId,
  Worker,
  type BroadcastChannel,
  type MessagePort,
} from 'node:worker_threads';
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
  viewSharedState,
  wakeWorker,
  type SharedState,
} from './shared-state.js';
import { processSingleton } from './process-registry.js';
import { openThreadChannel, type ThreadChannelMessage } from './thread-channel.js';
import { WATCHDOG_WORKER_SOURCE } from './watchdog-worker.js';
import type {
  DeadlineHook,
  RawCapture,
  RawFrame,
  WatchdogCommand,
  WatchdogMessage,
  WatchdogThreadMessage,
  WatchdogWorkerData,
} from './worker-protocol.js';

export type { RawFrame } from './worker-protocol.js';

export interface BlockSamplesMessage {
  /** A worker thread's name, as the watchdog learnt it. */
  threadName?: string;
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
/** A worker thread whose registration nobody answered within this runs without stacks. */
const REGISTER_TIMEOUT_MS = 2000;
const REGISTER_UNANSWERED =
  "stacks of a worker thread are captured by the process's watchdog, which hangwatch runs on the main thread: use hangwatch there too (a monitor, hang detection, or the preload --import hangwatch/register), started before this worker";
/** `whenReady()` resolves after this even if the worker never answered. */
const READY_TIMEOUT_MS = 10_000;

/** Resolve frames from the worker into source-mapped StackFrames with source lines. */
export function resolveFrames(frames: RawFrame[], sourceMaps: Record<string, string>): StackFrame[] {
  return withSourceLines(
    frames.map((raw) =>
      mapFrame(fromInspectorFrame({ ...raw, location: undefined }), sourceMaps[raw.scriptId] || undefined),
    ),
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
  /** The state whose wake cell the watchdog worker waits on (a worker thread's: the main thread's). */
  private wakeState: SharedState = this.state;
  /** Main thread, while the worker runs: the channel worker threads register on, and their leases. */
  private threadChannel: BroadcastChannel | undefined;
  private readonly threadLeases = new Map<number, object>();
  /** Worker thread: the channel to the main thread's watchdog while registered. */
  private registration: BroadcastChannel | undefined;

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
    if (!isMainThread) {
      this.register();
      return;
    }
    if (this.worker || this.stackUnavailable) return;
    if (inspectorUrl() !== undefined && process.env.HANGWATCH_STACKS_WITH_DEBUGGER !== '1') {
      // A debugger may be attached: pausing and resuming would fight with it.
      this.stackUnavailable =
        'an inspector is open in this process (--inspect); hangwatch does not pause the main thread under a debugger (set HANGWATCH_STACKS_WITH_DEBUGGER=1 to force)';
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
      this.listenForThreads();
    } catch (err) {
      this.disable(`the watchdog worker could not start: ${(err as Error).message}`);
    }
  }

  /** Drop `owner`'s hold; the worker stops when nobody holds it. */
  release(owner: object): void {
    this.leases.delete(owner);
    this.monitors.delete(owner);
    this.applyMonitors();
    if (this.leases.size > 0) return;
    if (isMainThread) this.stopWorker();
    else this.unregister();
  }

  /** Main thread: the worker threads the watchdog watches (by threadId). */
  get watchedThreads(): number[] {
    return [...this.threadLeases.keys()];
  }

  /**
   * Main thread, while the watchdog worker runs: watch the worker threads that register (see
   * thread-channel.ts). A registered thread holds a lease on the worker until it leaves or is lost.
   */
  private listenForThreads(): void {
    if (this.threadChannel) return;
    this.threadChannel = openThreadChannel((msg) => this.onThreadMessage(msg));
  }

  private onThreadMessage(msg: ThreadChannelMessage): void {
    const channel = this.threadChannel;
    if (!channel) return;
    if (msg.type === 'register') {
      // A preload running inside the watchdog worker itself: it must never pause its own thread.
      if (msg.threadId === this.worker?.threadId) {
        channel.postMessage({
          type: 'refused',
          threadId: msg.threadId,
          reason: "this is hangwatch's watchdog thread",
        } satisfies ThreadChannelMessage);
        return;
      }
      if (!this.threadLeases.has(msg.threadId)) {
        const lease = { threadId: msg.threadId };
        this.threadLeases.set(msg.threadId, lease);
        this.acquire(lease);
      }
      const port = this.port;
      if (!this.worker || !port) {
        this.forgetThread(msg.threadId);
        channel.postMessage({
          type: 'refused',
          threadId: msg.threadId,
          reason: this.stackUnavailable ?? 'the watchdog worker is not running',
        } satisfies ThreadChannelMessage);
        return;
      }
      port.postMessage({
        type: 'add-thread',
        threadId: msg.threadId,
        buffer: msg.buffer,
        hookKey: msg.hookKey,
      } satisfies WatchdogCommand);
      channel.postMessage({
        type: 'registered',
        threadId: msg.threadId,
        wakeBuffer: this.state.buffer,
      } satisfies ThreadChannelMessage);
    } else if (msg.type === 'unregister') {
      this.forgetThread(msg.threadId);
    }
  }

  private forgetThread(id: number): void {
    const lease = this.threadLeases.get(id);
    if (!lease) return;
    this.threadLeases.delete(id);
    this.port?.postMessage({ type: 'remove-thread', threadId: id } satisfies WatchdogCommand);
    this.release(lease);
  }

  /**
   * Worker thread: ask the main thread's watchdog to watch this thread. Nobody may answer (no
   * hangwatch in use on the main thread, or one of another protocol): then no stacks, and says why.
   */
  private register(): void {
    if (this.registration || this.stackUnavailable) return;
    const channel = openThreadChannel((msg) => this.onRegistrationMessage(msg));
    this.registration = channel;
    process.on('exit', this.unregisterAtExit);
    channel.postMessage({
      type: 'register',
      threadId,
      buffer: this.state.buffer,
      hookKey: this.hookKey,
    } satisfies ThreadChannelMessage);
    const timer = setTimeout(() => {
      if (this.registration === channel && !this.isReady) {
        this.stackUnavailable = REGISTER_UNANSWERED;
        this.unregister();
        this.settleReady();
      }
    }, REGISTER_TIMEOUT_MS);
    timer.unref();
  }

  private readonly unregisterAtExit = (): void => this.unregister();

  private unregister(): void {
    const channel = this.registration;
    if (!channel) return;
    this.registration = undefined;
    process.off('exit', this.unregisterAtExit);
    this.wakeState = this.state;
    this.isReady = false;
    try {
      channel.postMessage({ type: 'unregister', threadId } satisfies ThreadChannelMessage);
    } finally {
      channel.close();
    }
    this.flushReadyWaiters();
  }

  private onRegistrationMessage(msg: ThreadChannelMessage): void {
    if (msg.threadId !== threadId || this.registration === undefined) return;
    switch (msg.type) {
      case 'registered':
        this.wakeState = viewSharedState(msg.wakeBuffer, SHARED_LAYOUT);
        wakeWorker(this.wakeState);
        this.settleReady();
        break;
      case 'refused':
        this.disable(`the process's watchdog cannot watch this thread: ${msg.reason}`);
        break;
      case 'watchdog':
        this.onThreadWatchdogMessage(msg.message);
        break;
    }
  }

  /** Resolves once the worker can capture stacks, or once it is known that it cannot. */
  whenReady(): Promise<void> {
    if (this.isReady || this.stackUnavailable || !(this.worker || this.registration)) return Promise.resolve();
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
    wakeWorker(this.wakeState);
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
    wakeWorker(this.wakeState);
  }

  private onWorkerMessage(msg: WatchdogMessage): void {
    switch (msg.type) {
      case 'ready':
        if (!msg.stacks) this.disable(msg.reason);
        this.settleReady();
        break;
      case 'fatal':
        this.disable(`the watchdog worker stopped: ${msg.reason.split('\n')[0]}`);
        break;
      default:
        if (msg.threadId === 0) this.onThreadWatchdogMessage(msg);
        else {
          // About a worker thread: its own hangwatch resolves and reports it.
          if (msg.type === 'thread-lost') this.forgetThread(msg.threadId);
          this.threadChannel?.postMessage({
            type: 'watchdog',
            threadId: msg.threadId,
            message: msg,
          } satisfies ThreadChannelMessage);
        }
    }
  }

  /** A watchdog message about this thread (on a worker thread: passed on by the main thread). */
  private onThreadWatchdogMessage(msg: WatchdogThreadMessage): void {
    switch (msg.type) {
      case 'capture-failed':
        this.lastCaptureError = msg.reason;
        break;
      case 'thread-lost':
        // The watchdog could not reach this thread (the main thread sat in native code past the
        // bound): it is registered again, and watched from its next block on.
        this.lastCaptureError = `the watchdog could not reach this thread: ${msg.reason}`;
        if (this.registration) {
          this.registration.postMessage({
            type: 'register',
            threadId,
            buffer: this.state.buffer,
            hookKey: this.hookKey,
          } satisfies ThreadChannelMessage);
        }
        break;
      case 'block': {
        const out: BlockSamplesMessage = {
          ...(msg.threadName ? { threadName: msg.threadName } : {}),
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
    if (isMainThread) this.stopWorker();
    else this.unregister();
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
    this.threadChannel?.close();
    this.threadChannel = undefined;
    this.threadLeases.clear();
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

/** Why stacks of this thread's blocked loop cannot be captured, if they cannot. */
export function whyNoStacks(watchdog: Watchdog | undefined): string | undefined {
  return watchdog?.stackUnavailable;
}

let instance: Watchdog | undefined;

/**
 * This thread's watchdog, shared by every copy of hangwatch loaded in the thread. On the main
 * thread it runs the process's one watchdog worker; on a worker thread it registers the thread
 * with it. A copy that cannot join the registry gets a watchdog that never starts (no stacks).
 */
export function getWatchdog(): Watchdog {
  instance ??= processSingleton(
    'watchdog',
    () => new Watchdog(),
    (reason) => new Watchdog(reason),
  );
  return instance;
}
