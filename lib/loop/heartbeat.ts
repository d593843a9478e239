/**
 * The loop heartbeat shared by every block monitor of the thread: one unref'ed interval that
 * notes each turn of the event loop — in shared memory for the watchdog worker, which samples
 * the main thread's stack when the heartbeat goes stale — and measures each block when the loop
 * comes back. A measured block is joined with the worker's samples (matched by the heartbeat
 * value that preceded it) and handed to the subscribed monitors.
 */
import { performance } from 'node:perf_hooks';
import type { StackFrame } from '../capture/stack-frame.js';
import { processSingleton } from '../watchdog/process-registry.js';
import { F_BLOCK_KEY } from '../watchdog/shared-state.js';
import { getWatchdog, whyNoStacks, type BlockSamplesMessage, type Watchdog } from '../watchdog/watchdog.js';
import { ThreadCpuWindow, type CpuWindow } from './thread-cpu.js';

export interface MeasuredBlock {
  startedAt: number;
  durationMs: number;
  samples: { at: number; captureMs: number; pauseDelayMs: number; frames: StackFrame[] }[];
  stackError: string | undefined;
  /** A worker thread's name, as the watchdog learnt it (see currentThreadName for the other way). */
  threadName?: string;
  /** The thread's CPU time over a window ending with the block (undefined: no CPU clock here). */
  cpu: CpuWindow | undefined;
}

export interface HeartbeatSubscriber {
  thresholdMs: number;
  sampleIntervalMs: number;
  captureStacks: boolean;
  onBlock(block: MeasuredBlock): void;
  /** Called on every tick with how late it was (ms, ≥ 0): the event-loop delay, measured for free. */
  onTick?: (lateMs: number) => void;
}

/**
 * How long a measured block waits for the worker's samples before it is reported without them.
 * The worker always posts a block it sampled once it sees the heartbeat move; on a loaded machine
 * that took over 2 s after a 1.5 s block (a pause still on its way, the worker not scheduled), so
 * this is only the bound for a worker that died. A monitor that stops drains them (unsubscribe).
 */
const SAMPLES_WAIT_MS = 10_000;
/** Samples that arrived for a block the heartbeat did not (or not yet) measure are kept this long. */
const EARLY_SAMPLES_TTL_MS = 10_000;

class LoopHeartbeat {
  private readonly subscribers = new Set<HeartbeatSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;
  private thresholdMs = 0;
  private lastTick = 0;
  /** `lastTick` on the monotonic clock, for the lateness of the next tick. */
  private lastTickPerf = 0;
  private watchdog: Watchdog | undefined;
  private unsubscribeSamples: (() => void) | undefined;
  private readonly early = new Map<number, BlockSamplesMessage>();
  private readonly waiting = new Map<number, { block: MeasuredBlock; timer: NodeJS.Timeout }>();
  /** This thread's CPU time since the last turn of the loop: blocked (on CPU) or starved (off CPU)? */
  private readonly cpu = new ThreadCpuWindow();

  subscribe(sub: HeartbeatSubscriber): void {
    this.subscribers.add(sub);
    this.reconfigure();
  }

  unsubscribe(sub: HeartbeatSubscriber): void {
    if (!this.subscribers.has(sub)) return;
    // Blocks still waiting for the watchdog's samples go to a leaving subscriber now: a monitor
    // stopped right after a block (a program that blocks and ends) still reports it.
    if (this.waiting.size > 0) {
      this.watchdog?.drainMessages();
      for (const { block } of this.waiting.values()) {
        if (block.durationMs < sub.thresholdMs) continue;
        try {
          sub.onBlock({
            ...block,
            stackError: block.stackError ?? 'the monitor stopped before the watchdog delivered its samples',
          });
        } catch {
          // a monitor's own failure must not stop the others
        }
      }
    }
    this.subscribers.delete(sub);
    this.reconfigure();
  }

  /** Resolves when stack capture is running (or known to be unavailable). */
  whenReady(): Promise<void> {
    return this.watchdog ? this.watchdog.whenReady() : Promise.resolve();
  }

  /** Why stacks are not captured, if they are not. */
  stackUnavailable(): string | undefined {
    // The process's watchdog remembers why stacks are unavailable even after it was released.
    return whyNoStacks(this.watchdog ?? getWatchdog());
  }

  private reconfigure(): void {
    if (this.subscribers.size === 0) {
      this.stop();
      return;
    }
    let threshold = Infinity;
    let sampleInterval = Infinity;
    let stacks = false;
    for (const s of this.subscribers) {
      threshold = Math.min(threshold, s.thresholdMs);
      if (s.captureStacks) {
        stacks = true;
        sampleInterval = Math.min(sampleInterval, s.sampleIntervalMs);
      }
    }
    this.thresholdMs = threshold;
    // A tick every quarter threshold: blocks are measured to within this, and are seen by the
    // worker when they have lasted between (threshold - interval) and threshold.
    const interval = Math.max(5, Math.min(50, Math.floor(threshold / 4)));
    if (interval !== this.intervalMs || !this.timer) {
      if (this.timer) clearInterval(this.timer);
      this.intervalMs = interval;
      this.lastTick = Date.now();
      this.lastTickPerf = performance.now();
      this.cpu.mark(this.lastTick);
      this.timer = setInterval(() => this.tick(), interval);
      this.timer.unref();
    }
    if (stacks) {
      if (!this.watchdog) {
        this.watchdog = getWatchdog();
        this.watchdog.acquire(this);
        this.unsubscribeSamples = this.watchdog.onBlockSamples((msg) => this.onSamples(msg));
      }
      this.watchdog.heartbeat(this.lastTick);
      this.watchdog.setMonitor(this, threshold, sampleInterval);
    } else if (this.watchdog) {
      this.releaseWatchdog();
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.intervalMs = 0;
    for (const { block, timer } of this.waiting.values()) {
      clearTimeout(timer);
      this.deliver(block);
    }
    this.waiting.clear();
    this.early.clear();
    this.releaseWatchdog();
  }

  private releaseWatchdog(): void {
    this.unsubscribeSamples?.();
    this.unsubscribeSamples = undefined;
    this.watchdog?.release(this);
    this.watchdog = undefined;
  }

  private tick(): void {
    const now = Date.now();
    const nowPerf = performance.now();
    const key = this.lastTick;
    const delay = now - key - this.intervalMs;
    const lateMs = Math.max(0, nowPerf - this.lastTickPerf - this.intervalMs);
    this.lastTick = now;
    this.lastTickPerf = nowPerf;
    // Read before the heartbeat moves: from then on the worker may finish the block it samples
    // (and clear the key) at any moment, its samples still on their way to this thread.
    const sampled = this.watchdog !== undefined && this.watchdog.state.f64[F_BLOCK_KEY] === key;
    this.watchdog?.heartbeat(now);
    for (const s of this.subscribers) {
      if (!s.onTick) continue;
      try {
        s.onTick(lateMs);
      } catch {
        // a monitor's own failure must not stop the heartbeat
      }
    }
    if (delay < this.thresholdMs) {
      this.cpu.mark(now);
      return;
    }
    const cpu = this.cpu.measure(now);
    this.cpu.mark(now);
    const block: MeasuredBlock = { startedAt: now - delay, durationMs: delay, samples: [], stackError: undefined, cpu };
    const watchdog = this.watchdog;
    const samples = this.early.get(key);
    if (samples) {
      this.early.delete(key);
      this.deliver(withSamples(block, samples));
    } else if (watchdog && sampled) {
      // The worker is sampling this block; its samples arrive in a moment.
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        block.stackError = 'the watchdog did not deliver its samples in time';
        this.deliver(block);
      }, SAMPLES_WAIT_MS);
      timer.unref();
      this.waiting.set(key, { block, timer });
    } else {
      block.stackError =
        this.stackUnavailable() ??
        watchdog?.lastCaptureError ??
        (watchdog ? 'the watchdog did not see this block (it ended as it was detected)' : 'stack capture is off');
      this.deliver(block);
    }
  }

  private onSamples(msg: BlockSamplesMessage): void {
    const waiting = this.waiting.get(msg.key);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(msg.key);
      this.deliver(withSamples(waiting.block, msg));
      return;
    }
    this.early.set(msg.key, msg);
    const cutoff = Date.now() - EARLY_SAMPLES_TTL_MS;
    for (const [key, m] of this.early) if (m.endedAt < cutoff) this.early.delete(key);
  }

  private deliver(block: MeasuredBlock): void {
    for (const s of this.subscribers) {
      if (block.durationMs < s.thresholdMs) continue;
      try {
        s.onBlock(block);
      } catch {
        // a monitor's own failure must not stop the others
      }
    }
  }
}

function withSamples(block: MeasuredBlock, msg: BlockSamplesMessage): MeasuredBlock {
  block.samples = msg.samples;
  if (msg.threadName) block.threadName = msg.threadName;
  if (msg.samples.length === 0) block.stackError = msg.error || 'no stack could be captured';
  return block;
}

let heartbeat: LoopHeartbeat | undefined;

/** The thread's heartbeat, shared by every copy of hangwatch loaded in it (see process-registry.ts). */
export function getLoopHeartbeat(): LoopHeartbeat {
  heartbeat ??= processSingleton('loop-heartbeat', () => new LoopHeartbeat());
  return heartbeat;
}
