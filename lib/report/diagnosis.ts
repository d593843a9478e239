/**
 * The report model of `diagnose()`: findings, each with its evidence and a next step.
 * JSON form is versioned (`schema`/`schemaVersion`).
 */
import type { SelfPauseReason } from '../capture/self-pause.js';
import type { StackFrame } from '../capture/stack-frame.js';
import type { SyncIoSite } from './sync-io-report.js';

export type FindingKind =
  | 'event-loop-blocking'
  | 'io-wait'
  | 'gc-pressure'
  | 'memory-leak'
  | 'handle-leak'
  | 'sync-io'
  | 'healthy';

export interface Evidence {
  label: string;
  /** Human-readable value, with its unit. */
  value: string;
}

export interface TimeRange {
  /** Milliseconds since the start of the run. */
  fromMs: number;
  toMs: number;
}

/** Frames of a blocking stack that the reports show. */
export const VISIBLE_STACK_FRAMES = 8;

/** Blocks that share their hottest application frame, aggregated. */
export interface BlockingStack {
  count: number;
  totalMs: number;
  maxMs: number;
  /** The stack of the longest of these blocks whose stack has the frame they share, innermost frame first. */
  frames: StackFrame[];
}

/** A constructor whose live objects grew between two heap snapshots. */
export interface GrowingConstructor {
  name: string;
  /** Live objects of the class, last snapshot minus first. */
  countDelta: number;
  /** Self size of those objects, last minus first. */
  sizeDeltaBytes: number;
  /** Memory the class's new objects keep alive in the last snapshot (their retained size). */
  retainedBytes?: number;
}

/**
 * V8's own kinds of object — `(array)`, `(string)`, `(closure)`, `system / Context` … — rather than a
 * constructor of the program. They hold a leak's growth as often as they are it (a Map's backing
 * store, a closure's context that reaches the whole cache), so they come after the program's classes.
 */
export function isEngineKind(name: string): boolean {
  return name.startsWith('(') || name.startsWith('system / ');
}

/**
 * The program's classes before V8's own kinds; within each, most retained first (self size growth
 * where no retained size is known), then most self size.
 */
export function byRetainedThenSize(a: GrowingConstructor, b: GrowingConstructor): number {
  return (
    Number(isEngineKind(a.name)) - Number(isEngineKind(b.name)) ||
    (b.retainedBytes ?? b.sizeDeltaBytes) - (a.retainedBytes ?? a.sizeDeltaBytes) ||
    b.sizeDeltaBytes - a.sizeDeltaBytes
  );
}

/** A pause of the program by hangwatch itself (heap snapshot, CPU profiler, report), on the run's timeline. */
export interface HangwatchPause {
  reason: SelfPauseReason;
  /** Milliseconds since the run started. */
  atMs: number;
  durationMs: number;
}

/** A pause, or several pauses of one reason, as the report lists them. */
export interface HangwatchPauseNote extends HangwatchPause {
  /** Pauses this note stands for (`durationMs` is their total, `atMs` the first one's). */
  count: number;
  longestMs: number;
  /** "hangwatch paused the program for 1.8 s to take a heap snapshot (at 2.5 s)" */
  text: string;
}

export interface Finding {
  kind: FindingKind;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  /** One or two sentences: what was seen and what it means. */
  summary: string;
  evidence: Evidence[];
  /** When it was seen. */
  ranges: TimeRange[];
  nextStep: string;
  /** event-loop-blocking: the top blocking stacks, when the block monitor captured them. */
  blockingStacks?: BlockingStack[];
  /** memory-leak: growing constructors, when a heap snapshot pair was taken. */
  growingConstructors?: GrowingConstructor[];
  /** sync-io: the call sites of synchronous I/O after start-up, the most total time first. */
  syncIoSites?: SyncIoSite[];
}

/** Synchronous I/O of the program after start-up, by call site (the doctor traces it unless `--no-sync-io`). */
export interface SyncIoSummary {
  totalCalls: number;
  /** Time inside the calls, ms. */
  totalMs: number;
  /** Call sites, the most total time first (at most 10). */
  sites: SyncIoSite[];
  /** Call sites not listed. */
  sitesOmitted: number;
}

export interface DiagnosisThresholds {
  /** An interval counts as blocked when its largest event-loop delay is at least this, ms. Default 100. */
  blockDelayMs: number;
  /** Blocking is reported when at least this share of intervals is blocked. Default 0.05. */
  blockMinShare: number;
  /** ...and at least this many intervals. Default 2. */
  blockMinIntervals: number;
  /** A single delay this long is reported however rare, ms. Default 1000. */
  blockSevereMs: number;
  /** I/O wait: the process uses less CPU than this, % of one core (mean). Default 30. */
  ioMaxCpuPercent: number;
  /** ...and its event loop is busy less than this share of the time (mean). Default 0.3. */
  ioMaxUtilization: number;
  /** ...while at least this many operations (requests, timers) are in flight on average. Default 5. */
  ioMinPendingOperations: number;
  /** GC pressure: share of wall time spent in GC pauses over the run. Default 0.1. */
  gcMinShare: number;
  /** Memory leak: growth of the heap after collections over the run, bytes (see lib/process/heap-trend.ts). Default 512 KiB. */
  leakMinGrowthBytes: number;
  /** ...and relative to the heap after collections at the start (0.01 = 1 %). Default 0.01. */
  leakMinRelativeGrowth: number;
  /** Handle leak: growth of the lower envelope of active handles. Default 20. */
  handleLeakMinGrowth: number;
  /** Fewer samples than this: trends (leaks) are not judged. Default 6. */
  minSamplesForTrend: number;
  /** Synchronous I/O: a finding from this many calls after start-up... Default 3. */
  syncIoMinCalls: number;
  /** ...or this much time inside them, ms. Default 10. */
  syncIoMinMs: number;
}

export interface DiagnosisSummary {
  durationMs: number;
  sampleCount: number;
  meanCpuPercent: number;
  maxCpuPercent: number;
  meanLoopUtilization: number;
  maxLoopDelayMs: number;
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  gcCount: number;
  gcPauseMs: number;
  /** Block events of the program (those that were hangwatch's own pauses are not counted). */
  blockEvents: number;
  /** Time hangwatch itself held the program's event loop, ms (not in the figures above). */
  hangwatchPauseMs: number;
}

export interface Diagnosis {
  schema: 'hangwatch.diagnosis';
  schemaVersion: 1;
  /** True when no problem was found (the only finding is `healthy`). */
  healthy: boolean;
  findings: Finding[];
  summary: DiagnosisSummary;
  /**
   * hangwatch's own pauses of the program (those of at least 10 ms; a reason seen more than
   * twice as one note), oldest first, each with the sentence the report shows. They are never
   * counted as the program's blocking.
   */
  hangwatchPauses: HangwatchPauseNote[];
  /** With heap snapshots: the constructors that grew most between them, whatever the findings. */
  growingConstructors?: GrowingConstructor[];
  /** When synchronous I/O was traced: its calls after start-up, whatever the findings (no calls: zero, no sites). */
  syncIo?: SyncIoSummary;
  thresholds: DiagnosisThresholds;
}
