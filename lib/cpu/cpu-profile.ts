/**
 * A recorded CPU profile and everything you can ask of it: pstats-like statistics, callers and
 * callees, and the three outputs (`.cpuprofile`, pprof, flame-graph HTML). Immutable: `filter()`
 * returns a new view over the same recording.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-file.js';
import { extname } from 'node:path';
import { FrameFilter, type FrameFilterOptions } from '../capture/frame-filter.js';
import type { RawCpuProfile } from '../capture/profile-format.js';
import { ProfileFrameResolver } from '../capture/profile-frame.js';
import { PprofBuilder } from '../export/pprof-builder.js';
import type { StackFrame } from '../capture/stack-frame.js';
import { InvalidOptionError } from '../errors.js';
import { booleanOption, enumOption, optionalObject, optionKeys, stringOption } from '../validate.js';
import { aggregateCpuProfile, indexNodes, nodeTotals, type ProfileAggregate } from './aggregate.js';
import { InvalidCpuProfileError, UnknownFunctionError } from './errors.js';
import { renderFlameGraphHtml, type FlameGraphOptions } from '../report/flame-graph.js';
import { CpuStats, STATS_SORT_KEYS, type FormatOptions, type FunctionStats, type StatsSortKey } from './stats.js';

const PRINT_OPTION_KEYS = optionKeys<PrintOptions>({ relativeTo: true, sort: true, top: true, stream: true });

const CPU_PROFILE_VIEW_OPTION_KEYS = optionKeys<CpuProfileViewOptions>({
  excludeNodeInternals: true,
  include: true,
  exclude: true,
  includeIdle: true,
  sourceMaps: true,
});

export interface CpuProfileMeta {
  /** Requested sampling interval (µs); estimated from the samples for loaded files. */
  samplingIntervalUs: number;
  /** Backend that recorded it (`inspector`, `v8-profiler-next`, `file`). */
  backend: string;
  /** Wall-clock time the recording started, ms since the epoch (when known). */
  startEpochMs?: number;
  /** `worker_threads.threadId` of the profiled thread (0 = main). */
  threadId?: number;
  /** Sampling was ended early by `maxDurationMs`. */
  truncated?: boolean;
}

export interface CpuProfileViewOptions extends FrameFilterOptions {
  /** Count `(idle)` samples (time the thread waited for the event loop). Default false. */
  includeIdle?: boolean;
  /** Map frames through source maps to the original (TypeScript) lines. Default true. */
  sourceMaps?: boolean;
}

/** A caller or callee of a function, weighted by samples. */
export interface CallRelation {
  function: FunctionStats;
  /** Time of the samples in which the two functions were directly linked. */
  timeMs: number;
  samples: number;
  /** Percent of the profiled time. */
  percent: number;
}

export type FunctionRef = string | FunctionStats | ((...args: never[]) => unknown);

export interface PrintOptions extends FormatOptions {
  sort?: StatsSortKey;
  top?: number;
  stream?: { write(s: string): unknown };
}

export type CpuOutputFormat = 'cpuprofile' | 'pprof' | 'html';

export class CpuProfile {
  readonly #raw: RawCpuProfile;
  readonly meta: Readonly<CpuProfileMeta>;
  readonly #filter: FrameFilter;
  readonly #includeIdle: boolean;
  readonly #sourceMaps: boolean;
  readonly #resolver: ProfileFrameResolver;
  #aggregate: ProfileAggregate | undefined;
  #stats: FunctionStats[] | undefined;

  constructor(
    raw: RawCpuProfile,
    meta: Partial<CpuProfileMeta> = {},
    view: CpuProfileViewOptions = {},
    resolver?: ProfileFrameResolver,
  ) {
    validateRaw(raw);
    this.#raw = raw;
    this.meta = Object.freeze({
      backend: meta.backend ?? 'file',
      samplingIntervalUs: meta.samplingIntervalUs ?? estimateInterval(raw),
      ...(meta.startEpochMs !== undefined ? { startEpochMs: meta.startEpochMs } : {}),
      ...(meta.threadId !== undefined ? { threadId: meta.threadId } : {}),
      ...(meta.truncated ? { truncated: true } : {}),
    });
    const v = optionalObject<CpuProfileViewOptions>('view', view, CPU_PROFILE_VIEW_OPTION_KEYS);
    this.#filter = new FrameFilter(v);
    this.#includeIdle = booleanOption('includeIdle', v.includeIdle, false);
    this.#sourceMaps = booleanOption('sourceMaps', v.sourceMaps, true);
    this.#resolver = resolver ?? new ProfileFrameResolver({ sourceMaps: this.#sourceMaps });
  }

  /** Parse `.cpuprofile` JSON (text or object). */
  static fromJSON(json: string | object, meta: Partial<CpuProfileMeta> = {}): CpuProfile {
    let data: unknown = json;
    if (typeof json === 'string') {
      try {
        data = JSON.parse(json);
      } catch (err) {
        throw new InvalidCpuProfileError('hangwatch: the text is not JSON', { cause: err });
      }
    }
    return new CpuProfile(data as RawCpuProfile, meta);
  }

  /** Read a `.cpuprofile` file (e.g. one written by `node --cpu-prof`). */
  static async load(path: string, meta: Partial<CpuProfileMeta> = {}): Promise<CpuProfile> {
    const file = stringOption('path', path);
    if (!file) throw new InvalidOptionError('path', 'a file path', path);
    return CpuProfile.fromJSON(await readFile(file, 'utf8'), meta);
  }

  /** Recorded duration, ms. */
  get durationMs(): number {
    return Math.max(0, this.#raw.endTime - this.#raw.startTime) / 1000;
  }

  get sampleCount(): number {
    return this.#raw.samples?.length ?? 0;
  }

  /** A view of the same recording with other filters (merged over this view's). */
  filter(options: CpuProfileViewOptions): CpuProfile {
    const o = optionalObject<CpuProfileViewOptions>('options', options, CPU_PROFILE_VIEW_OPTION_KEYS);
    const merged: CpuProfileViewOptions = {
      excludeNodeInternals: o.excludeNodeInternals ?? this.#filter.excludeNodeInternals,
      include: o.include ?? [...this.#filter.include],
      exclude: o.exclude ?? [...this.#filter.exclude],
      includeIdle: o.includeIdle ?? this.#includeIdle,
      sourceMaps: o.sourceMaps ?? this.#sourceMaps,
    };
    const sameMaps = merged.sourceMaps === this.#sourceMaps;
    return new CpuProfile(this.#raw, this.meta, merged, sameMaps ? this.#resolver : undefined);
  }

  /** Statistics per function, sorted by cumulative time. */
  stats(): CpuStats {
    const agg = this.#agg();
    this.#stats ??= agg.functions.map((_, id) => this.#entry(agg, id));
    // functions seen on no sampled stack (e.g. only in the tree) are not rows
    return new CpuStats(
      this.#stats.filter((e) => e.totalSamples > 0),
      this.#summary(agg),
    ).sort('cumulative');
  }

  /** Shorthand for `stats().sort(key)`. */
  sort(key: StatsSortKey = 'cumulative'): CpuStats {
    return this.stats().sort(key);
  }

  /** Shorthand for `stats().top(n)` (by cumulative time). */
  top(n: number): CpuStats {
    return this.stats().top(n);
  }

  /** Print the stats table (default: sorted by cumulative time, every row) to stdout or `stream`. */
  print(options: PrintOptions = {}): void {
    const o = optionalObject<PrintOptions>('options', options, PRINT_OPTION_KEYS);
    let s = this.stats().sort(enumOption('sort', o.sort, STATS_SORT_KEYS, 'cumulative'));
    if (o.top !== undefined) s = s.top(o.top);
    s.print(o.stream ?? process.stdout, o);
  }

  /** Functions that called `fn`, with the time spent in `fn` under each. */
  callers(fn: FunctionRef): CallRelation[] {
    const agg = this.#agg();
    return this.#relations(agg, agg.callers.get(this.#idOf(agg, fn)));
  }

  /** Functions that `fn` called, with the (cumulative) time spent in each under `fn`. */
  callees(fn: FunctionRef): CallRelation[] {
    const agg = this.#agg();
    return this.#relations(agg, agg.callees.get(this.#idOf(agg, fn)));
  }

  /** The `.cpuprofile` data (Chrome DevTools, speedscope, VS Code open it). */
  toJSON(): RawCpuProfile {
    return this.#raw;
  }

  /**
   * gzip-compressed pprof protobuf: sample types `samples/count` and `cpu/nanoseconds`, frames
   * source-mapped and filtered like this view.
   */
  toPprof(): Buffer {
    const builder = new PprofBuilder({
      sampleTypes: [
        ['samples', 'count'],
        ['cpu', 'nanoseconds'],
      ],
      periodType: ['cpu', 'nanoseconds'],
      period: this.meta.samplingIntervalUs * 1000,
      ...(this.meta.startEpochMs !== undefined ? { startEpochMs: this.meta.startEpochMs } : {}),
      durationNanos: this.durationMs * 1e6,
    });
    for (const { stack, samples, timeUs } of this.#stacks()) builder.addSample(stack, [samples, timeUs * 1000]);
    return builder.encode();
  }

  /** A self-contained flame graph page (inline SVG and script, no external assets). */
  toFlameGraphHtml(options: FlameGraphOptions = {}): string {
    return renderFlameGraphHtml(this.#stacks(), { title: 'CPU flame graph', unit: 'time', ...options });
  }

  /** Write the profile (atomically: complete or absent, lib/atomic-file.ts); the format follows the extension (`.cpuprofile`/`.json`, `.pb.gz`/`.pprof`, `.html`) unless given. */
  async writeFile(path: string, format?: CpuOutputFormat): Promise<string> {
    const file = stringOption('path', path);
    if (!file) throw new InvalidOptionError('path', 'a file path', path);
    const fmt = enumOption<CpuOutputFormat>('format', format, ['cpuprofile', 'pprof', 'html'], formatOfPath(file));
    const data =
      fmt === 'pprof' ? this.toPprof() : fmt === 'html' ? this.toFlameGraphHtml() : JSON.stringify(this.#raw);
    await writeFileAtomic(file, data);
    return file;
  }

  /** Visible stacks (root first → leaf last reversed to leaf first) with their sample totals. */
  #stacks(): Array<{ stack: StackFrame[]; samples: number; timeUs: number }> {
    const raw = this.#raw;
    const { parent } = indexNodes(raw);
    const { us, count } = nodeTotals(raw);
    const out: Array<{ stack: StackFrame[]; samples: number; timeUs: number }> = [];
    for (let i = 0; i < raw.nodes.length; i++) {
      if (!count[i]) continue;
      const stack: StackFrame[] = [];
      let idle = false;
      for (let j = i; j >= 0; j = parent[j] as number) {
        const cf = (raw.nodes[j] as RawCpuProfile['nodes'][number]).callFrame;
        if (cf.functionName === '(root)' && !cf.url) continue;
        if (cf.functionName === '(idle)' && !cf.url) idle = true;
        const frame = this.#resolver.resolve(cf);
        if (this.#filter.keeps(frame)) stack.push(frame);
      }
      if (idle && !this.#includeIdle) continue;
      if (!stack.length) stack.push({ functionName: '(filtered)', file: '', line: 0, column: 0 });
      out.push({ stack, samples: count[i] as number, timeUs: us[i] as number });
    }
    return out;
  }

  #agg(): ProfileAggregate {
    this.#aggregate ??= aggregateCpuProfile(this.#raw, {
      filter: this.#filter,
      resolver: this.#resolver,
      includeIdle: this.#includeIdle,
    });
    return this.#aggregate;
  }

  #summary(agg: ProfileAggregate): { totalTimeMs: number; totalSamples: number; samplingIntervalUs: number } {
    return {
      totalTimeMs: agg.profiledUs / 1000,
      totalSamples: agg.profiledSamples,
      samplingIntervalUs: this.meta.samplingIntervalUs,
    };
  }

  #entry(agg: ProfileAggregate, id: number): FunctionStats {
    const { key, frame } = agg.functions[id] as ProfileAggregate['functions'][number];
    const total = agg.profiledUs || 1;
    const e: FunctionStats = {
      key,
      functionName: frame.functionName,
      file: frame.file,
      line: frame.line,
      column: frame.column,
      selfTimeMs: (agg.selfUs[id] as number) / 1000,
      totalTimeMs: (agg.totalUs[id] as number) / 1000,
      selfSamples: agg.selfSamples[id] as number,
      totalSamples: agg.totalSamples[id] as number,
      selfPercent: (100 * (agg.selfUs[id] as number)) / total,
      totalPercent: (100 * (agg.totalUs[id] as number)) / total,
    };
    if (frame.generated) e.generated = frame.generated;
    // positionTicks carry generated line numbers only (no column), which cannot be mapped reliably
    // through a source map; hot lines are given for unmapped frames.
    const lines = frame.generated ? undefined : agg.lineTicks.get(id);
    if (lines?.size) {
      e.hotLines = [...lines]
        .map(([line, samples]) => ({ line, samples }))
        .sort((a, b) => b.samples - a.samples || a.line - b.line);
    }
    return e;
  }

  #idOf(agg: ProfileAggregate, fn: FunctionRef): number {
    let wanted: string;
    if (typeof fn === 'function') wanted = fn.name;
    else if (typeof fn === 'string') wanted = fn;
    else if (fn && typeof fn === 'object' && typeof fn.key === 'string') wanted = fn.key;
    else throw new InvalidOptionError('fn', 'a function key, a function name, a FunctionStats or a function', fn);
    const exact = agg.functions.findIndex((f) => f.key === wanted);
    if (exact >= 0) return exact;
    const byName = agg.functions.flatMap((f, id) => (f.frame.functionName === wanted ? [id] : []));
    if (byName.length === 1) return byName[0] as number;
    if (byName.length > 1) {
      throw new UnknownFunctionError(
        `hangwatch: "${wanted}" names ${byName.length} functions in the profile; pass one of their keys: ${byName.map((id) => agg.functions[id]?.key).join(', ')}`,
      );
    }
    throw new UnknownFunctionError(`hangwatch: no function "${wanted}" in the profile (or it is hidden by the filter)`);
  }

  #relations(
    agg: ProfileAggregate,
    edges: Map<number, { timeUs: number; samples: number }> | undefined,
  ): CallRelation[] {
    if (!edges) return [];
    this.#stats ??= agg.functions.map((_, id) => this.#entry(agg, id));
    const stats = this.#stats;
    const total = agg.profiledUs || 1;
    return [...edges]
      .map(([id, e]) => ({
        function: stats[id] as FunctionStats,
        timeMs: e.timeUs / 1000,
        samples: e.samples,
        percent: (100 * e.timeUs) / total,
      }))
      .sort((a, b) => b.timeMs - a.timeMs || a.function.key.localeCompare(b.function.key));
  }
}

function formatOfPath(file: string): CpuOutputFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.pprof' || ext === '.pb' || file.toLowerCase().endsWith('.pb.gz')) return 'pprof';
  return 'cpuprofile';
}

function validateRaw(raw: unknown): asserts raw is RawCpuProfile {
  const r = raw as Partial<RawCpuProfile> | null;
  if (
    !r ||
    typeof r !== 'object' ||
    !Array.isArray(r.nodes) ||
    typeof r.startTime !== 'number' ||
    typeof r.endTime !== 'number'
  ) {
    throw new InvalidCpuProfileError(
      'hangwatch: not a .cpuprofile (expected { nodes, startTime, endTime, samples, timeDeltas })',
    );
  }
  for (const n of r.nodes) {
    if (!n || typeof n.id !== 'number' || !n.callFrame || typeof n.callFrame.functionName !== 'string') {
      throw new InvalidCpuProfileError('hangwatch: a node of the .cpuprofile has no id or callFrame');
    }
  }
  if (r.samples !== undefined && !Array.isArray(r.samples))
    throw new InvalidCpuProfileError('hangwatch: "samples" must be an array');
  if (r.timeDeltas !== undefined && !Array.isArray(r.timeDeltas))
    throw new InvalidCpuProfileError('hangwatch: "timeDeltas" must be an array');
}

/** Median gap between samples, µs (falls back to 1000). */
function estimateInterval(raw: RawCpuProfile): number {
  const d = (raw.timeDeltas ?? []).slice(1).filter((x) => x > 0);
  if (!d.length) return 1000;
  d.sort((a, b) => a - b);
  return Math.max(1, Math.round(d[d.length >> 1] as number));
}
