/**
 * `AllocationSnapshot`: tracemalloc's `Snapshot` for V8's sampling heap profiler. A trace is one
 * allocation stack with the sampled bytes and sample count still live on it. `statistics()` and
 * `compareTo()` group traces by line, function, file or whole stack, sorted the way tracemalloc
 * sorts them.
 *
 * What the numbers mean: V8 samples on average one allocation per `samplingIntervalBytes` and
 * scales each sample to stand for the bytes around it, so `size` is an unbiased estimate of the
 * live bytes allocated at that stack, and `count` is the number of live *samples* (not objects:
 * the scaling cannot be inverted to an object count). V8 records the allocating *function* — its
 * `line` is the line where that function is defined, not the exact allocating statement.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../atomic-file.js';
import { PprofBuilder } from '../export/pprof-builder.js';
import { displayPath } from '../report/display-path.js';
import { renderFlameGraphHtml, type FlameGraphOptions } from '../report/flame-graph.js';
import type { RawSamplingHeapProfile, SamplingHeapProfileNode } from '../capture/profile-format.js';
import type { ProfileFrameResolver } from '../capture/profile-frame.js';
import { isHangwatchFrame } from '../capture/own-files.js';
import { isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import { InvalidOptionError } from '../errors.js';
import { booleanOption, enumOption, optionalObject, optionKeys, requiredArray, requiredObject } from '../validate.js';
import { InvalidAllocationSnapshotError } from './errors.js';
import { AllocationFilter, keepTrace, type AllocationFilterSpec } from './filter.js';

const STATISTICS_OPTION_KEYS = optionKeys<StatisticsOptions>({ cumulative: true });

export interface AllocationTrace {
  /** Stack of the allocation, most recent frame first, at most `stackDepth` frames. */
  frames: StackFrame[];
  /** Estimated live bytes allocated with this stack. */
  size: number;
  /** Live samples with this stack. */
  count: number;
}

export type StatisticKey = 'line' | 'function' | 'file' | 'stack';
export const STATISTIC_KEYS: readonly StatisticKey[] = ['line', 'function', 'file', 'stack'];

export interface AllocationStatistic {
  /** Group key: `file:line`, `function (file:line)`, `file`, or the frames joined by ` <- `. */
  key: string;
  /** The frame the group is about (for `stack`: the whole stack, most recent first). */
  frames: StackFrame[];
  size: number;
  count: number;
}

export interface AllocationStatisticDiff extends AllocationStatistic {
  sizeDiff: number;
  countDiff: number;
}

export interface StatisticsOptions {
  /** Count a trace under every frame of its stack, not only the most recent one (not for `stack`). */
  cumulative?: boolean;
}

export interface AllocationSnapshotMeta {
  samplingIntervalBytes: number;
  stackDepth: number;
  /** Wall-clock time of the snapshot, ms since the epoch. */
  timestamp: number;
  /** Whether samples of garbage-collected objects were kept (allocation totals, not live bytes). */
  includeCollected: boolean;
}

const SNAPSHOT_FORMAT = 'hangwatch-allocation-snapshot';
const SNAPSHOT_VERSION = 1;

function keyOf(frame: StackFrame, key: Exclude<StatisticKey, 'stack'>): string {
  if (key === 'file') return frame.file || frame.functionName;
  const where = frame.file ? `${frame.file}:${frame.line}` : frame.functionName;
  return key === 'line' ? where : frame.file ? `${frame.functionName} (${where})` : frame.functionName;
}

function frameForKey(frame: StackFrame, key: StatisticKey): StackFrame {
  return key === 'file' ? { functionName: '', file: frame.file || frame.functionName, line: 0, column: 0 } : frame;
}

/**
 * Allocations made by hangwatch itself (its source-map cache, parsing a profile) rather than by
 * code it calls: the most recent frame that is not Node's or V8's is hangwatch's. `path` is root
 * first. User code run inside `cpuProfile(fn)` is not affected: its own frame is more recent.
 */
function madeByHangwatch(path: readonly StackFrame[]): boolean {
  for (let i = path.length - 1; i >= 0; i--) {
    const f = path[i] as StackFrame;
    if (!f.file || isNodeInternal(f)) continue;
    return isHangwatchFrame(f);
  }
  return false;
}

function stackKey(frames: readonly StackFrame[]): string {
  return frames.map((f) => keyOf(f, 'function')).join(' <- ');
}

export class AllocationSnapshot {
  readonly traces: readonly AllocationTrace[];
  readonly meta: Readonly<AllocationSnapshotMeta>;

  constructor(traces: readonly AllocationTrace[], meta: AllocationSnapshotMeta) {
    this.traces = traces;
    this.meta = Object.freeze({ ...meta });
  }

  /** Convert V8's sampling tree into traces: one per node holding live samples. */
  static fromSamplingProfile(
    raw: RawSamplingHeapProfile,
    meta: AllocationSnapshotMeta,
    resolver: ProfileFrameResolver,
  ): AllocationSnapshot {
    requiredObject(
      'raw.head',
      requiredObject<RawSamplingHeapProfile>('raw', raw, 'a sampling heap profile').head,
      'the root node of a sampling heap profile',
    );
    requiredObject('meta', meta, 'allocation snapshot metadata');
    requiredObject('resolver', resolver, 'a profile frame resolver');
    const perNode = new Map<number, { size: number; count: number }>();
    for (const s of raw.samples ?? []) {
      const t = perNode.get(s.nodeId);
      if (t) {
        t.size += s.size;
        t.count++;
      } else perNode.set(s.nodeId, { size: s.size, count: 1 });
    }
    const useSamples = Array.isArray(raw.samples);
    const merged = new Map<string, AllocationTrace>();
    const path: StackFrame[] = [];
    const visit = (node: SamplingHeapProfileNode, depth: number): void => {
      const isRoot = depth === 0;
      if (!isRoot) path.push(resolver.resolve(node.callFrame));
      const own = useSamples
        ? perNode.get(node.id)
        : node.selfSize > 0
          ? { size: node.selfSize, count: Math.max(1, Math.round(node.selfSize / meta.samplingIntervalBytes)) }
          : undefined;
      if (own && own.size > 0 && path.length > 0 && !madeByHangwatch(path)) {
        const frames = path.slice(-meta.stackDepth).reverse();
        const k = stackKey(frames);
        const t = merged.get(k);
        if (t) {
          t.size += own.size;
          t.count += own.count;
        } else merged.set(k, { frames, size: own.size, count: own.count });
      }
      for (const c of node.children ?? []) visit(c, depth + 1);
      if (!isRoot) path.pop();
    };
    visit(raw.head, 0);
    return new AllocationSnapshot([...merged.values()], meta);
  }

  get totalSize(): number {
    return this.traces.reduce((a, t) => a + t.size, 0);
  }

  get totalCount(): number {
    return this.traces.reduce((a, t) => a + t.count, 0);
  }

  /** Group traces by `key`, biggest first (size, then count), like `tracemalloc.Snapshot.statistics`. */
  statistics(key: StatisticKey = 'line', options: StatisticsOptions = {}): AllocationStatistic[] {
    const k = enumOption('key', key, STATISTIC_KEYS, 'line');
    const o = optionalObject<StatisticsOptions>('options', options, STATISTICS_OPTION_KEYS);
    const cumulative = booleanOption('cumulative', o.cumulative, false);
    if (cumulative && k === 'stack')
      throw new InvalidOptionError('cumulative', 'false when key is "stack" (as in tracemalloc)', true);
    const groups = new Map<string, AllocationStatistic>();
    const add = (gk: string, frames: StackFrame[], t: AllocationTrace): void => {
      const g = groups.get(gk);
      if (g) {
        g.size += t.size;
        g.count += t.count;
      } else groups.set(gk, { key: gk, frames, size: t.size, count: t.count });
    };
    for (const t of this.traces) {
      if (k === 'stack') add(stackKey(t.frames), t.frames, t);
      else if (!cumulative) {
        const top = t.frames[0];
        if (top) add(keyOf(top, k), [frameForKey(top, k)], t);
      } else {
        const seen = new Set<string>();
        for (const f of t.frames) {
          const gk = keyOf(f, k);
          if (seen.has(gk)) continue;
          seen.add(gk);
          add(gk, [frameForKey(f, k)], t);
        }
      }
    }
    return [...groups.values()].sort((a, b) => b.size - a.size || b.count - a.count || a.key.localeCompare(b.key));
  }

  /**
   * What changed since `older`, grouped by `key`: sorted by absolute size change, then size, then
   * absolute count change, then count — `tracemalloc.Snapshot.compare_to`.
   */
  compareTo(
    older: AllocationSnapshot,
    key: StatisticKey = 'line',
    options: StatisticsOptions = {},
  ): AllocationStatisticDiff[] {
    if (!(older instanceof AllocationSnapshot)) throw new InvalidOptionError('older', 'an AllocationSnapshot', older);
    const now = this.statistics(key, options);
    const before = new Map(older.statistics(key, options).map((s) => [s.key, s]));
    const diffs: AllocationStatisticDiff[] = now.map((s) => {
      const old = before.get(s.key);
      before.delete(s.key);
      return { ...s, sizeDiff: s.size - (old?.size ?? 0), countDiff: s.count - (old?.count ?? 0) };
    });
    for (const old of before.values())
      diffs.push({ key: old.key, frames: old.frames, size: 0, count: 0, sizeDiff: -old.size, countDiff: -old.count });
    return diffs.sort(
      (a, b) =>
        Math.abs(b.sizeDiff) - Math.abs(a.sizeDiff) ||
        b.size - a.size ||
        Math.abs(b.countDiff) - Math.abs(a.countDiff) ||
        b.count - a.count ||
        a.key.localeCompare(b.key),
    );
  }

  /** A new snapshot with only the traces the filters keep (`tracemalloc.Snapshot.filter_traces`). */
  filterTraces(filters: ReadonlyArray<AllocationFilter | AllocationFilterSpec>): AllocationSnapshot {
    if (!Array.isArray(filters)) throw new InvalidOptionError('filters', 'an array of AllocationFilter', filters);
    const fs = filters.map((f, i) => AllocationFilter.from(f, i));
    return new AllocationSnapshot(
      this.traces.filter((t) => keepTrace(fs, t.frames)),
      this.meta,
    );
  }

  /** gzip-compressed pprof: sample types `objects/count` (samples) and `space/bytes`. */
  toPprof(): Buffer {
    const b = new PprofBuilder({
      sampleTypes: [
        ['objects', 'count'],
        ['space', 'bytes'],
      ],
      periodType: ['space', 'bytes'],
      period: this.meta.samplingIntervalBytes,
      startEpochMs: this.meta.timestamp,
    });
    for (const t of this.traces) b.addSample(t.frames, [t.count, t.size]);
    return b.encode();
  }

  /** A self-contained flame graph of the live sampled bytes per stack. */
  toFlameGraphHtml(options: FlameGraphOptions = {}): string {
    return renderFlameGraphHtml(
      this.traces.map((t) => ({ stack: t.frames, size: t.size })),
      { title: 'Allocation flame graph (live sampled bytes)', ...options, unit: 'bytes' },
    );
  }

  /** Serializable form (what `dump()` writes). */
  toJSON(): { format: string; version: number; meta: AllocationSnapshotMeta; traces: readonly AllocationTrace[] } {
    return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, meta: { ...this.meta }, traces: this.traces };
  }

  static fromJSON(data: unknown): AllocationSnapshot {
    const d = data as Partial<ReturnType<AllocationSnapshot['toJSON']>> | null;
    if (!d || d.format !== SNAPSHOT_FORMAT || d.version !== SNAPSHOT_VERSION || !d.meta || !Array.isArray(d.traces)) {
      throw new InvalidAllocationSnapshotError(`hangwatch: not a ${SNAPSHOT_FORMAT} v${SNAPSHOT_VERSION}`);
    }
    for (const t of d.traces) {
      if (!t || !Array.isArray(t.frames) || typeof t.size !== 'number' || typeof t.count !== 'number') {
        throw new InvalidAllocationSnapshotError('hangwatch: a trace of the allocation snapshot is malformed');
      }
    }
    return new AllocationSnapshot(d.traces, d.meta);
  }

  /** Write to a file (`tracemalloc.Snapshot.dump`), atomically (lib/atomic-file.ts). */
  dump(path: string): void {
    if (typeof path !== 'string' || !path) throw new InvalidOptionError('path', 'a file path', path);
    writeFileAtomicSync(path, JSON.stringify(this));
  }

  /** Read a file written by `dump()` (`tracemalloc.Snapshot.load`). */
  static load(path: string): AllocationSnapshot {
    if (typeof path !== 'string' || !path) throw new InvalidOptionError('path', 'a file path', path);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new InvalidAllocationSnapshotError(`hangwatch: cannot read an allocation snapshot from ${path}`, {
        cause: err,
      });
    }
    return AllocationSnapshot.fromJSON(data);
  }
}

/** One line per statistic, like tracemalloc's `str(stat)`: `file:line: size=1.2 MiB (+1.1 MiB), count=40 (+38), average=31 KiB`. */
export function formatStatistic(
  s: AllocationStatistic | AllocationStatisticDiff,
  base: string | false = process.cwd(),
): string {
  requiredArray(
    'statistic.frames',
    requiredObject<AllocationStatistic>('statistic', s, 'an allocation statistic').frames,
    'an array of frames',
  );
  const f = s.frames[0];
  const where = s.frames.length > 1 ? s.frames.map((fr) => place(fr, base)).join(' <- ') : f ? place(f, base) : s.key;
  const diff = 'sizeDiff' in s;
  const size = `size=${bytes(s.size)}${diff ? ` (${sign(s.sizeDiff)}${bytes(Math.abs(s.sizeDiff))})` : ''}`;
  const count = `count=${s.count}${diff ? ` (${sign(s.countDiff)}${Math.abs(s.countDiff)})` : ''}`;
  const avg = s.count ? `, average=${bytes(s.size / s.count)}` : '';
  return `${where}: ${size}, ${count}${avg}`;
}

function place(f: StackFrame, base: string | false): string {
  if (!f.file) return f.functionName;
  const file = displayPath(f.file, base === false ? undefined : base);
  if (f.line <= 0) return file;
  return f.functionName ? `${file}:${f.line} (${f.functionName})` : `${file}:${f.line}`;
}

function sign(n: number): string {
  return n < 0 ? '-' : '+';
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
