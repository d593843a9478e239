/**
 * `monitorGc()`: every garbage collection as an event (kind, pause, flags) from `perf_hooks`, the
 * heap in use after each major (mark-sweep-compact) collection, and a leak suspicion when that
 * post-GC heap keeps growing — node-memwatch's heuristic ("the heap grew after N consecutive full
 * GCs"), with N and the minimum growth tunable and the trend included in the event.
 *
 * The heap size is read with `v8.getHeapStatistics()` when the observer callback runs, which is
 * shortly after the collection (observer entries are delivered asynchronously and in batches): the
 * reading belongs to the last major GC of the batch, and earlier majors of the same batch get none.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { functionOption, numberOption, optionalObject, optionKeys } from '../validate.js';

const GC_MONITOR_OPTION_KEYS = optionKeys<GcMonitorOptions>({
  onGc: true,
  onLeakSuspected: true,
  consecutiveGrowth: true,
  minGrowthBytes: true,
  minTotalGrowthBytes: true,
  historySize: true,
});

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb' | 'unknown';

export interface GcEvent {
  kind: GcKind;
  /** Pause of this collection, ms. */
  durationMs: number;
  /** Start on the `performance.now()` timeline, ms. */
  startTime: number;
  /** Raw `NODE_PERFORMANCE_GC_FLAGS_*` bits. */
  flags: number;
  /** Requested by code (`global.gc()`, `--expose-gc`) rather than by V8's heuristics. */
  forced: boolean;
  /** `used_heap_size` right after a major GC (only on the last major GC of a delivery batch). */
  heapUsedAfter?: number;
}

export interface HeapPoint {
  /** ms since the epoch */
  timestamp: number;
  heapUsed: number;
}

export interface LeakSuspicion {
  /** Consecutive major GCs after which the heap was larger than after the previous one. */
  consecutiveGrowth: number;
  /** Heap used after the last of them. */
  heapUsed: number;
  /** Growth from the first point of the trend to the last, bytes. */
  growthBytes: number;
  /** Least-squares slope of the trend, bytes per major GC and per second. */
  bytesPerGc: number;
  bytesPerSecond: number;
  /** Heap used after each major GC of the streak, oldest first (the first point is the base). */
  trend: HeapPoint[];
  message: string;
}

export interface GcMonitorOptions {
  /** Called for every collection. */
  onGc?: (event: GcEvent) => void;
  /** Called when the post-GC heap grew over `consecutiveGrowth` consecutive major GCs. */
  onLeakSuspected?: (suspicion: LeakSuspicion) => void;
  /** Growths in a row before suspecting a leak (default 5, as node-memwatch). */
  consecutiveGrowth?: number;
  /** A step counts as growth only if the heap grew by more than this many bytes (default 0). */
  minGrowthBytes?: number;
  /** Total growth over the streak needed to report it (default 1 MiB): filters out JIT and feedback noise. */
  minTotalGrowthBytes?: number;
  /** Post-major-GC heap readings kept for `stats()` (default 100). */
  historySize?: number;
}

export interface GcKindStats {
  count: number;
  totalPauseMs: number;
  maxPauseMs: number;
}

export interface GcStats {
  byKind: Record<GcKind, GcKindStats>;
  count: number;
  totalPauseMs: number;
  maxPauseMs: number;
  /** Latest post-major-GC heap readings, oldest first. */
  heapAfterMajorGc: HeapPoint[];
  /** Current streak of post-GC heap growth. */
  growthStreak: number;
  leaksSuspected: number;
}

export interface GcMonitor {
  readonly active: boolean;
  stats(): GcStats;
  /** Disconnect the observer; idempotent. */
  stop(): void;
}

const KINDS: Record<number, GcKind> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The growth detector on its own, fed one post-major-GC reading at a time. */
export class HeapGrowthDetector {
  readonly #n: number;
  readonly #minStep: number;
  readonly #minTotal: number;
  #streak: HeapPoint[] = [];

  constructor(consecutiveGrowth: number, minGrowthBytes: number, minTotalGrowthBytes: number) {
    this.#n = consecutiveGrowth;
    this.#minStep = minGrowthBytes;
    this.#minTotal = minTotalGrowthBytes;
  }

  get streak(): number {
    return Math.max(0, this.#streak.length - 1);
  }

  /** Returns a suspicion when this reading completes a qualifying streak. */
  push(point: HeapPoint): LeakSuspicion | undefined {
    const last = this.#streak[this.#streak.length - 1];
    if (last && point.heapUsed - last.heapUsed > this.#minStep) this.#streak.push(point);
    else this.#streak = [point];
    const trend = this.#streak;
    const base = trend[0] as HeapPoint;
    const growth = point.heapUsed - base.heapUsed;
    if (trend.length - 1 < this.#n || growth < this.#minTotal) return undefined;
    this.#streak = [point];
    const perGc = slope(
      trend.map((_, i) => i),
      trend.map((p) => p.heapUsed),
    );
    const perMs = slope(
      trend.map((p) => p.timestamp - base.timestamp),
      trend.map((p) => p.heapUsed),
    );
    const mib = (b: number) => (b / 1048576).toFixed(1);
    return {
      consecutiveGrowth: trend.length - 1,
      heapUsed: point.heapUsed,
      growthBytes: growth,
      bytesPerGc: perGc,
      bytesPerSecond: perMs * 1000,
      trend,
      message: `heap after major GC grew ${trend.length - 1} times in a row, by ${mib(growth)} MiB to ${mib(point.heapUsed)} MiB (~${mib(perGc)} MiB per GC): possible memory leak`,
    };
  }
}

function safeCall<T>(fn: ((arg: T) => void) | undefined, arg: T, what: string): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch (err) {
    // A throwing user callback must not take the process down from inside a perf_hooks callback.
    process.emitWarning(
      `hangwatch: ${what} callback threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      'HangwatchWarning',
    );
  }
}

export function monitorGc(options: GcMonitorOptions = {}): GcMonitor {
  const o = optionalObject<GcMonitorOptions>('options', options, GC_MONITOR_OPTION_KEYS);
  const onGc = functionOption<(e: GcEvent) => void>('onGc', o.onGc);
  const onLeak = functionOption<(s: LeakSuspicion) => void>('onLeakSuspected', o.onLeakSuspected);
  const n = numberOption('consecutiveGrowth', o.consecutiveGrowth, 5, { min: 1, max: 10_000, integer: true });
  const minStep = numberOption('minGrowthBytes', o.minGrowthBytes, 0, { min: 0 });
  const minTotal = numberOption('minTotalGrowthBytes', o.minTotalGrowthBytes, 1024 * 1024, { min: 0 });
  const historySize = numberOption('historySize', o.historySize, 100, { min: 1, max: 1_000_000, integer: true });

  const detector = new HeapGrowthDetector(n, minStep, minTotal);
  const empty = (): GcKindStats => ({ count: 0, totalPauseMs: 0, maxPauseMs: 0 });
  const byKind: Record<GcKind, GcKindStats> = {
    minor: empty(),
    major: empty(),
    incremental: empty(),
    weakcb: empty(),
    unknown: empty(),
  };
  const history: HeapPoint[] = [];
  let leaks = 0;
  let active = true;

  const observer = new PerformanceObserver((list) => {
    if (!active) return;
    const entries = list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number; flags?: number } }>;
    let lastMajor = -1;
    entries.forEach((e, i) => {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) lastMajor = i;
    });
    const heapUsed = lastMajor >= 0 ? getHeapStatistics().used_heap_size : 0;
    entries.forEach((e, i) => {
      const kind = KINDS[e.detail?.kind ?? -1] ?? 'unknown';
      const flags = e.detail?.flags ?? 0;
      const s = byKind[kind];
      s.count++;
      s.totalPauseMs += e.duration;
      if (e.duration > s.maxPauseMs) s.maxPauseMs = e.duration;
      const event: GcEvent = {
        kind,
        durationMs: e.duration,
        startTime: e.startTime,
        flags,
        forced: (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0,
      };
      if (i === lastMajor) {
        event.heapUsedAfter = heapUsed;
        const point = { timestamp: Date.now(), heapUsed };
        history.push(point);
        if (history.length > historySize) history.shift();
        const suspicion = detector.push(point);
        if (suspicion) {
          leaks++;
          safeCall(onLeak, suspicion, 'onLeakSuspected');
        }
      }
      safeCall(onGc, event, 'onGc');
    });
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    get active() {
      return active;
    },
    stats(): GcStats {
      const all = Object.values(byKind);
      return {
        byKind: structuredClone(byKind),
        count: all.reduce((a, s) => a + s.count, 0),
        totalPauseMs: all.reduce((a, s) => a + s.totalPauseMs, 0),
        maxPauseMs: Math.max(0, ...all.map((s) => s.maxPauseMs)),
        heapAfterMajorGc: history.slice(),
        growthStreak: detector.streak,
        leaksSuspected: leaks,
      };
    },
    stop(): void {
      if (!active) return;
      active = false;
      observer.disconnect();
    },
  };
}
