/** A period during which the event loop did not turn (sync work), with where the time went. */
import type { SelfPauseReason } from '../capture/self-pause.js';
import type { StackFrame } from '../capture/stack-frame.js';
import type { BlockCause, ThreadCpuSource } from '../loop/thread-cpu.js';
import type { REPORT_SCHEMA_VERSION } from './schema.js';

export interface BlockSample {
  /** Milliseconds from the start of the block to this sample. */
  offsetMs: number;
  /** Main-thread stack, most recent call first. */
  frames: StackFrame[];
  /** Time from the watchdog's request to the paused stack. */
  captureMs: number;
  /** Time the main thread took to answer the watchdog (large: it was inside a native call; see HangReport). */
  pauseDelayMs: number;
}

export interface HotFrame {
  frame: StackFrame;
  /** Share of the sampled time this frame was on the stack (0..1): each sample stands for the time to the next. */
  ratio: number;
  samples: number;
}

export interface BlockEvent {
  schema: 'hangwatch.block-event';
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** Process-unique, increasing. */
  id: number;
  startedAt: string;
  /** How long the loop did not turn, measured when it came back. */
  durationMs: number;
  thresholdMs: number;
  /** The first stack captured while blocked (most recent call first). */
  stack?: StackFrame[];
  /** Every stack captured while blocked (repeated for long blocks). */
  samples: BlockSample[];
  /** Frames by how often they were on the stack, most often first (the "where did the time go"). */
  hotFrames: HotFrame[];
  /** Why there is no stack, when there is none. */
  stackError?: string;
  /**
   * From the thread's own CPU time over the block (rule in docs/event-loop.md): `blocked` — it used
   * at least the threshold, or half the block, of CPU: synchronous work held the loop; `starved` —
   * less: most of the block it was not running (the process was not scheduled or was stopped, or
   * it slept inside a synchronous system call); `unknown` — no CPU clock on this Node/platform, or
   * one too coarse to tell.
   */
  cause: BlockCause;
  /** CPU time (user + system) the thread used during the block, ms (absent when unknown). */
  cpuMs?: number;
  /** Where `cpuMs` comes from: `process.threadCpuUsage()` or Linux `/proc/thread-self/stat`. */
  cpuSource?: ThreadCpuSource;
  /** One-minute load average when the block was reported (absent on Windows, which has none). */
  loadAverage?: number;
  /** CPUs available to the process (`os.availableParallelism()`), to read the load average against. */
  cpus?: number;
  pid: number;
  /** The thread whose loop was blocked (0: the main thread). */
  threadId: number;
  /** A worker thread's name (`new Worker(…, { name })`); absent on the main thread and for unnamed workers. */
  threadName?: string;
  /**
   * Part of the block during which hangwatch itself held the loop (a heap snapshot, the CPU
   * profiler, a report): not the program's blocking. `reason` is the longest such pause's.
   */
  hangwatchPause?: { reason: SelfPauseReason; ms: number };
}
