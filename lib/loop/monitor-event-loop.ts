/**
 * `monitorEventLoop(options)`: process-wide detection of blocking synchronous work, with the
 * blocking stack captured while the loop is blocked, event-loop delay percentiles and
 * utilization. What blocked-at, Clinic Doctor and Sentry's ANR detection do, at the cost of one
 * timer tick every quarter threshold on the main thread (the sampling happens in the watchdog
 * worker). The delay histogram is fed by those same ticks — how late each one was — so an idle
 * process wakes only for the heartbeat (a `perf_hooks` delay timer every 10 ms beside it woke the
 * thread 100 times a second); `resolutionMs` brings back a separate timer at that resolution.
 */
import { selfPauseOverlap } from '../capture/self-pause.js';
import { writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { currentThreadName } from '../capture/thread-name.js';
import {
  createHistogram,
  monitorEventLoopDelay,
  performance,
  type EventLoopUtilization,
  type IntervalHistogram,
  type RecordableHistogram,
} from 'node:perf_hooks';
import type { BlockEvent } from '../report/block-event.js';
import { REPORT_SCHEMA_VERSION } from '../report/schema.js';
import { booleanOption, functionOption, numberOption, optionalObject, optionKeys } from '../validate.js';
import { getLoopHeartbeat, type HeartbeatSubscriber, type MeasuredBlock } from './heartbeat.js';
import { hotFrames } from './hot-frames.js';
import { classifyCpuWindow, schedulingContext } from './thread-cpu.js';

const LOOP_MONITOR_OPTION_KEYS = optionKeys<LoopMonitorOptions>({
  thresholdMs: true,
  captureStacks: true,
  sampleIntervalMs: true,
  onBlock: true,
  maxEvents: true,
  resolutionMs: true,
});

export interface LoopMonitorOptions {
  /** A block is the loop not turning for at least this long (default 100 ms, minimum 10). */
  thresholdMs?: number;
  /** Capture the main thread's stack while blocked, through the watchdog worker (default true). */
  captureStacks?: boolean;
  /** While one block lasts, capture the stack again every this many ms (default 50). */
  sampleIntervalMs?: number;
  /** Called with each block, once the loop is back. Errors it throws are reported and ignored. */
  onBlock?: (event: BlockEvent) => void;
  /** How many recent blocks `blocks()` keeps (default 100). */
  maxEvents?: number;
  /**
   * Sample the event-loop delay with a separate timer every this many ms (`perf_hooks`'
   * `monitorEventLoopDelay`). Default: no extra timer — the histogram records how late each tick of
   * the block monitor's heartbeat (every quarter threshold, 5–50 ms) was.
   */
  resolutionMs?: number;
}

/** Event-loop delay: how late the loop ran a timer that was due, in ms (0 on an idle loop). */
export interface LoopStats {
  /** Histogram samples since start or the last reset. */
  samples: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Event-loop utilization (0..1) since start or the last reset. */
  utilization: number;
  /** Blocks since start or the last reset. */
  blockCount: number;
}

export interface LoopMonitor {
  stats(): LoopStats;
  /** Recent blocks, oldest first. */
  blocks(): BlockEvent[];
  /** Clear the histogram, utilization baseline, block count and recent blocks. */
  reset(): void;
  /** Stop monitoring and release the timer, the histogram and (if unused) the watchdog worker. */
  stop(): void;
  /** `'active'` when stacks are being captured, else why not. */
  readonly stackCapture: string;
  /**
   * Resolves once the watchdog worker is up and blocks will have stacks (or once it is known
   * that they cannot). Blocks before that are measured but may have no stack.
   */
  ready(): Promise<void>;
}

let nextBlockId = 1;
let warnedNoStacks = false;

export function monitorEventLoop(options?: LoopMonitorOptions): LoopMonitor {
  const o = optionalObject<LoopMonitorOptions>('options', options, LOOP_MONITOR_OPTION_KEYS);
  const thresholdMs = numberOption('thresholdMs', o.thresholdMs, 100, { min: 10, max: 3_600_000 });
  const captureStacks = booleanOption('captureStacks', o.captureStacks, true);
  const sampleIntervalMs = numberOption('sampleIntervalMs', o.sampleIntervalMs, 50, { min: 1, max: 3_600_000 });
  const onBlock = functionOption<(event: BlockEvent) => void>('onBlock', o.onBlock);
  const maxEvents = numberOption('maxEvents', o.maxEvents, 100, { min: 0, max: 1_000_000, integer: true });
  const resolutionMs =
    o.resolutionMs === undefined
      ? undefined
      : numberOption('resolutionMs', o.resolutionMs, 10, { min: 1, max: 1000, integer: true });
  return new EventLoopMonitor(thresholdMs, captureStacks, sampleIntervalMs, onBlock, maxEvents, resolutionMs);
}

class EventLoopMonitor implements LoopMonitor {
  /** The delay histogram, in ns: the heartbeat's lateness, or perf_hooks' timer deltas (`resolutionMs`). */
  private readonly histogram: IntervalHistogram | RecordableHistogram;
  /** What to subtract from each perf_hooks value: it records the whole interval between its ticks. */
  private readonly histogramOffsetNs: number;
  private elu: EventLoopUtilization;
  private recent: BlockEvent[] = [];
  private blockCount = 0;
  private stopped = false;
  private readonly subscriber: HeartbeatSubscriber;

  constructor(
    private readonly thresholdMs: number,
    private readonly captureStacks: boolean,
    sampleIntervalMs: number,
    private readonly onBlock: ((event: BlockEvent) => void) | undefined,
    private readonly maxEvents: number,
    resolutionMs: number | undefined,
  ) {
    this.elu = performance.eventLoopUtilization();
    this.subscriber = { thresholdMs, sampleIntervalMs, captureStacks, onBlock: (b) => this.record(b) };
    if (resolutionMs === undefined) {
      const histogram = createHistogram();
      this.histogram = histogram;
      this.histogramOffsetNs = 0;
      // A RecordableHistogram takes integers ≥ 1: an on-time tick records 1 ns.
      this.subscriber.onTick = (lateMs) => histogram.record(Math.max(1, Math.round(lateMs * 1e6)));
    } else {
      const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
      histogram.enable();
      this.histogram = histogram;
      this.histogramOffsetNs = resolutionMs * 1e6;
    }
    getLoopHeartbeat().subscribe(this.subscriber);
  }

  get stackCapture(): string {
    if (!this.captureStacks) return 'off (captureStacks: false)';
    return getLoopHeartbeat().stackUnavailable() ?? 'active';
  }

  stats(): LoopStats {
    const h = this.histogram;
    const ms = (ns: number): number => Math.max(0, ns - this.histogramOffsetNs) / 1e6;
    const empty = h.count === 0;
    return {
      samples: h.count,
      minMs: empty ? 0 : ms(h.min),
      meanMs: empty ? 0 : ms(h.mean),
      p50Ms: empty ? 0 : ms(h.percentile(50)),
      p90Ms: empty ? 0 : ms(h.percentile(90)),
      p99Ms: empty ? 0 : ms(h.percentile(99)),
      maxMs: empty ? 0 : ms(h.max),
      utilization: performance.eventLoopUtilization(this.elu).utilization,
      blockCount: this.blockCount,
    };
  }

  blocks(): BlockEvent[] {
    return [...this.recent];
  }

  ready(): Promise<void> {
    return this.captureStacks && !this.stopped ? getLoopHeartbeat().whenReady() : Promise.resolve();
  }

  reset(): void {
    this.histogram.reset();
    this.elu = performance.eventLoopUtilization();
    this.recent = [];
    this.blockCount = 0;
  }

  stop(): void {
    if (this.stopped) return;
    // Unsubscribing first hands over a block that is still waiting for its samples.
    getLoopHeartbeat().unsubscribe(this.subscriber);
    this.stopped = true;
    if ('disable' in this.histogram) this.histogram.disable();
  }

  private record(block: MeasuredBlock): void {
    if (this.stopped) return;
    const samples = block.samples.map((s) => ({
      offsetMs: Math.max(0, s.at - block.startedAt),
      frames: s.frames,
      captureMs: s.captureMs,
      pauseDelayMs: s.pauseDelayMs,
    }));
    const event: BlockEvent = {
      schema: 'hangwatch.block-event',
      schemaVersion: REPORT_SCHEMA_VERSION,
      id: nextBlockId++,
      startedAt: new Date(block.startedAt).toISOString(),
      durationMs: block.durationMs,
      thresholdMs: this.thresholdMs,
      samples,
      hotFrames: hotFrames(samples, block.durationMs),
      cause: 'unknown',
      pid: process.pid,
      threadId,
    };
    const name = currentThreadName() ?? block.threadName;
    if (name) event.threadName = name;
    const verdict = classifyCpuWindow(block.durationMs, this.thresholdMs, block.cpu);
    event.cause = verdict.cause;
    if (verdict.cpuMs !== undefined && block.cpu) {
      event.cpuMs = verdict.cpuMs;
      event.cpuSource = block.cpu.source;
    }
    const scheduling = schedulingContext();
    if (scheduling.loadAverage !== undefined) event.loadAverage = scheduling.loadAverage;
    event.cpus = scheduling.cpus;
    const own = selfPauseOverlap(block.startedAt, block.startedAt + block.durationMs);
    if (own.reason) event.hangwatchPause = { reason: own.reason, ms: Math.min(own.ms, block.durationMs) };
    if (samples[0]) event.stack = samples[0].frames;
    else if (this.captureStacks) {
      event.stackError = block.stackError ?? 'not captured';
      const reason = getLoopHeartbeat().stackUnavailable();
      if (reason && !warnedNoStacks) {
        warnedNoStacks = true;
        safeStderr(`hangwatch: the event-loop monitor runs without stacks: ${reason}\n`);
      }
    } else event.stackError = 'stack capture is off (captureStacks: false)';
    this.blockCount++;
    if (this.maxEvents > 0) {
      this.recent.push(event);
      if (this.recent.length > this.maxEvents) this.recent.shift();
    }
    if (this.onBlock) {
      try {
        this.onBlock(event);
      } catch (err) {
        safeStderr(`hangwatch: onBlock threw: ${(err as Error)?.stack ?? String(err)}\n`);
      }
    }
  }
}

function safeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr is gone
  }
}
