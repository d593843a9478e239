/**
 * `diagnose(samples)`: from the per-interval series of a run (CPU, memory, handles, event-loop
 * delay and utilization, GC), name what is wrong — event-loop blocking, I/O wait, GC pressure,
 * memory leak, handle leak — each with its evidence and a next step, or say the run looked healthy.
 *
 * The rules and thresholds are documented in docs/cli.md ("How the doctor decides"); every
 * threshold can be overridden.
 */
import { formatFrame, isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import { isHangwatchFrame } from '../capture/own-files.js';
import { describeSelfPauseReason } from '../capture/self-pause.js';
import { InvalidOptionError } from '../errors.js';
import type { BlockEvent } from '../loop/index.js';
import { byRetainedThenSize, type BlockingStack, type Diagnosis, type DiagnosisSummary, type DiagnosisThresholds, type Evidence, type Finding, type GrowingConstructor, type HangwatchPause, type HangwatchPauseNote, type TimeRange, VISIBLE_STACK_FRAMES } from '../report/diagnosis.js';
import { formatBytes, formatMs, formatPercent, formatRange } from '../report/format-units.js';
import { numberOption, optionalObject, optionKeys } from '../validate.js';
import { judgeHeapTrend, lowerEnvelope, postGcHeapSeries } from './heap-trend.js';
import type { IntervalSample } from './interval-sampler.js';

const DIAGNOSE_OPTION_KEYS = optionKeys<DiagnoseOptions>({ blocks: true, growingConstructors: true, hangwatchPauses: true, thresholds: true });

const DIAGNOSIS_THRESHOLDS_OPTION_KEYS = optionKeys<DiagnosisThresholds>({ blockDelayMs: true, blockMinShare: true, blockMinIntervals: true, blockSevereMs: true, ioMaxCpuPercent: true, ioMaxUtilization: true, ioMinPendingOperations: true, gcMinShare: true, leakMinGrowthBytes: true, leakMinRelativeGrowth: true, handleLeakMinGrowth: true, minSamplesForTrend: true });

export const DEFAULT_THRESHOLDS: Readonly<DiagnosisThresholds> = Object.freeze({
  blockDelayMs: 100,
  blockMinShare: 0.05,
  blockMinIntervals: 2,
  blockSevereMs: 1000,
  ioMaxCpuPercent: 30,
  ioMaxUtilization: 0.3,
  ioMinPendingOperations: 5,
  gcMinShare: 0.1,
  leakMinGrowthBytes: 512 * 1024,
  leakMinRelativeGrowth: 0.01,
  handleLeakMinGrowth: 20,
  minSamplesForTrend: 6,
});

export interface DiagnoseOptions {
  /** Block events from the block monitor: their stacks are attached to an event-loop-blocking finding. */
  blocks?: BlockEvent[];
  /** From a heap snapshot pair: shown whatever the findings, and attached to a memory-leak finding. */
  growingConstructors?: GrowingConstructor[];
  /** hangwatch's own pauses of the program (`SupervisedRun.hangwatchPauses`): shown apart, never blamed on it. */
  hangwatchPauses?: HangwatchPause[];
  thresholds?: Partial<DiagnosisThresholds>;
}

/** Growing constructors kept (most retained first). */
const TOP_GROWING = 10;

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const max = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), 0);

function validateThresholds(value: unknown): DiagnosisThresholds {
  const given = optionalObject<DiagnosisThresholds>('thresholds', value, DIAGNOSIS_THRESHOLDS_OPTION_KEYS);
  const out = { ...DEFAULT_THRESHOLDS };
  for (const key of Object.keys(given) as (keyof DiagnosisThresholds)[]) {
    const share = key === 'blockMinShare' || key === 'ioMaxUtilization' || key === 'gcMinShare' || key === 'leakMinRelativeGrowth';
    out[key] = numberOption(`thresholds.${key}`, given[key], DEFAULT_THRESHOLDS[key], share ? { min: 0, max: 1 } : { min: 0 });
  }
  return out;
}

function validateSamples(samples: unknown): IntervalSample[] {
  if (!Array.isArray(samples)) throw new InvalidOptionError('samples', 'an array of interval samples', samples);
  samples.forEach((s, i) => {
    const ok = s && typeof s === 'object' && typeof s.t === 'number' && typeof s.intervalMs === 'number' && s.loopDelay && typeof s.loopDelay.maxMs === 'number';
    if (!ok) throw new InvalidOptionError(`samples[${i}]`, 'an interval sample (t, intervalMs, loopDelay, ...)', s);
  });
  return samples as IntervalSample[];
}

/** Merge the intervals that satisfy `pred` into time ranges. */
function rangesWhere(samples: IntervalSample[], pred: (s: IntervalSample) => boolean): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (const s of samples) {
    if (!pred(s)) continue;
    const fromMs = Math.max(0, s.t - s.intervalMs);
    const last = ranges[ranges.length - 1];
    if (last && fromMs <= last.toMs + 1) last.toMs = s.t;
    else ranges.push({ fromMs, toMs: s.t });
  }
  return ranges;
}

function describeRanges(ranges: TimeRange[]): string {
  const shown = ranges.slice(0, 4).map((r) => formatRange(r.fromMs, r.toMs));
  return ranges.length > 4 ? `${shown.join(', ')} and ${ranges.length - 4} more` : shown.join(', ');
}

/** Least-squares slope, per second, of points whose `t` is in ms. */
function slopePerSecond(points: { t: number; value: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = mean(points.map((p) => p.t));
  const mv = mean(points.map((p) => p.value));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.value - mv);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? (num / den) * 1000 : 0;
}

/**
 * Growth of an envelope that rises (nearly) monotonically and is still rising in its second half;
 * 0 otherwise. The second condition tells a leak from a ramp-up: a server that opens its
 * connections or fills its caches at the start steps up once and then stays flat.
 */
export function sustainedGrowth(envelope: { value: number }[], tolerance: (v: number) => number): number {
  for (let i = 1; i < envelope.length; i++) {
    const prev = envelope[i - 1] as { value: number };
    const cur = envelope[i] as { value: number };
    if (cur.value < prev.value - tolerance(prev.value)) return 0;
  }
  const first = envelope[0]?.value ?? 0;
  const middle = envelope[Math.floor(envelope.length / 2)]?.value ?? 0;
  const last = envelope[envelope.length - 1]?.value ?? 0;
  const growth = last - first;
  return growth > 0 && last - middle >= growth * LATE_GROWTH_SHARE ? growth : 0;
}

/** Share of the growth that must happen in the second half of the run for a leak. */
const LATE_GROWTH_SHARE = 0.25;

/** Node's own code or hangwatch's: never what a block is blamed on while an application frame is there. */
const notTheApplication = (f: StackFrame): boolean => isNodeInternal(f) || isHangwatchFrame(f);

/** The frame a block is attributed to: its hottest application frame, else its innermost one. */
function blockKeyFrame(event: BlockEvent): StackFrame | undefined {
  const hot = event.hotFrames.find((h) => !notTheApplication(h.frame))?.frame;
  return hot ?? event.stack?.find((f) => !notTheApplication(f)) ?? event.stack?.[0] ?? event.samples[0]?.frames[0];
}

/** Group block events by their key frame; the groups with the most blocked time first. */
export function topBlockingStacks(blocks: BlockEvent[], limit = 5): BlockingStack[] {
  const groups = new Map<string, { stack: BlockingStack; longest: number; showsKey: boolean }>();
  for (const event of blocks) {
    const key = blockKeyFrame(event);
    if (!key) continue;
    const id = formatFrame(key);
    const frames = event.stack ?? event.samples[0]?.frames ?? [key];
    // The first stack of a block may have been taken after its hot function returned: show the
    // longest block whose stack has the frame the group is named after.
    const showsKey = frames.some((f) => formatFrame(f) === id);
    let group = groups.get(id);
    if (!group) {
      group = { stack: { count: 0, totalMs: 0, maxMs: 0, frames }, longest: -1, showsKey };
      groups.set(id, group);
    }
    group.stack.count++;
    group.stack.totalMs += event.durationMs;
    group.stack.maxMs = Math.max(group.stack.maxMs, event.durationMs);
    if ((showsKey && !group.showsKey) || (showsKey === group.showsKey && event.durationMs > group.longest)) {
      group.longest = event.durationMs;
      group.showsKey = showsKey;
      group.stack.frames = frames;
    }
  }
  // Groups whose shown frames are the same read as one stack: merge them.
  const byVisible = new Map<string, BlockingStack>();
  for (const { stack } of [...groups.values()].sort((a, b) => b.longest - a.longest)) {
    const visible = stack.frames.slice(0, VISIBLE_STACK_FRAMES).map(formatFrame).join('\n');
    const same = byVisible.get(visible);
    if (!same) {
      byVisible.set(visible, stack);
      continue;
    }
    same.count += stack.count;
    same.totalMs += stack.totalMs;
    same.maxMs = Math.max(same.maxMs, stack.maxMs);
  }
  return [...byVisible.values()].sort((a, b) => b.totalMs - a.totalMs).slice(0, limit);
}

/**
 * The program's blocks: a block is the program's for the part of it hangwatch did not hold the
 * loop (a heap snapshot, the profiler); a block that is under its threshold without that part was
 * hangwatch's alone and is dropped.
 */
export function programBlocks(blocks: BlockEvent[]): BlockEvent[] {
  const out: BlockEvent[] = [];
  for (const b of blocks) {
    const own = b.hangwatchPause?.ms ?? 0;
    // Its stack caught hangwatch at work: the block is hangwatch's, whatever the rest of it was.
    if (own > 0 && (b.stack ?? b.samples[0]?.frames ?? []).some(isHangwatchFrame)) continue;
    if (own <= 0) out.push(b);
    else if (b.durationMs - own >= b.thresholdMs) out.push({ ...b, durationMs: b.durationMs - own });
  }
  return out;
}

/** Only pauses this long are listed in the report (they all count in `summary.hangwatchPauseMs`). */
const LISTED_PAUSE_MS = 10;

/** Each pause of a reason seen once or twice; a reason seen more often (the live-heap probe) as one line. */
function describePauses(pauses: HangwatchPause[]): HangwatchPauseNote[] {
  const byReason = new Map<HangwatchPause['reason'], HangwatchPause[]>();
  for (const p of pauses) byReason.set(p.reason, [...(byReason.get(p.reason) ?? []), p]);
  const notes: HangwatchPauseNote[] = [];
  for (const [reason, list] of byReason) {
    const listed = list.filter((p) => p.durationMs >= LISTED_PAUSE_MS);
    if (listed.length <= 2) {
      for (const p of listed) notes.push({ ...p, count: 1, longestMs: p.durationMs, text: `hangwatch paused the program for ${formatMs(p.durationMs)} to ${describeSelfPauseReason(reason)} (at ${formatMs(p.atMs)})` });
      continue;
    }
    const total = list.reduce((a, p) => a + p.durationMs, 0);
    const longest = max(list.map((p) => p.durationMs));
    notes.push({
      reason,
      atMs: (list[0] as HangwatchPause).atMs,
      durationMs: total,
      count: list.length,
      longestMs: longest,
      text: `hangwatch paused the program ${list.length} times, ${formatMs(total)} in all (longest ${formatMs(longest)}), to ${describeSelfPauseReason(reason)}`,
    });
  }
  return notes.sort((a, b) => a.atMs - b.atMs);
}

function summarize(samples: IntervalSample[], blocks: BlockEvent[], pauses: HangwatchPause[]): DiagnosisSummary {
  return {
    durationMs: samples.length ? (samples[samples.length - 1] as IntervalSample).t - Math.max(0, (samples[0] as IntervalSample).t - (samples[0] as IntervalSample).intervalMs) : 0,
    sampleCount: samples.length,
    meanCpuPercent: mean(samples.map((s) => s.cpuPercent)),
    maxCpuPercent: max(samples.map((s) => s.cpuPercent)),
    meanLoopUtilization: mean(samples.map((s) => s.loopUtilization)),
    maxLoopDelayMs: max(samples.map((s) => s.loopDelay.maxMs)),
    peakRssBytes: max(samples.map((s) => s.rssBytes)),
    peakHeapUsedBytes: max(samples.map((s) => s.heapUsedBytes)),
    gcCount: samples.reduce((a, s) => a + s.gc.count, 0),
    gcPauseMs: samples.reduce((a, s) => a + s.gc.pauseMs, 0),
    blockEvents: blocks.length,
    hangwatchPauseMs: pauses.reduce((a, p) => a + p.durationMs, 0),
  };
}

/**
 * The intervals in which the program itself held the event loop: a delay of at least the
 * threshold, with the loop busy for at least half of that delay in this interval or the one
 * before (a block always lies inside one sampling interval, but the delay probe may only record
 * it in the next one). A long delay while the loop was idle is a process starved of CPU by
 * others — real latency, but not the program's blocking.
 */
export function blockedIntervals(samples: IntervalSample[], blockDelayMs: number): Set<IntervalSample> {
  const busyMs = (s: IntervalSample | undefined): number => (s ? s.loopUtilization * s.intervalMs : 0);
  const out = new Set<IntervalSample>();
  samples.forEach((s, i) => {
    if (s.loopDelay.maxMs >= blockDelayMs && Math.max(busyMs(s), busyMs(samples[i - 1])) >= s.loopDelay.maxMs / 2) out.add(s);
  });
  return out;
}

function findBlocking(samples: IntervalSample[], th: DiagnosisThresholds, blocks: BlockEvent[]): Finding | undefined {
  const blockedSet = blockedIntervals(samples, th.blockDelayMs);
  const blocked = samples.filter((s) => blockedSet.has(s));
  const worst = max(blocked.map((s) => s.loopDelay.maxMs));
  const share = samples.length ? blocked.length / samples.length : 0;
  const frequent = blocked.length >= th.blockMinIntervals && share >= th.blockMinShare;
  if (!frequent && worst < th.blockSevereMs) return undefined;
  const ranges = rangesWhere(samples, (s) => blockedSet.has(s));
  const stacks = topBlockingStacks(blocks);
  const evidence: Evidence[] = [
    { label: 'longest event-loop delay', value: formatMs(worst) },
    { label: `intervals with a delay ≥ ${formatMs(th.blockDelayMs)}`, value: `${blocked.length} of ${samples.length} (${formatPercent(share)})` },
    { label: 'p99 delay in the blocked intervals (mean)', value: formatMs(mean(blocked.map((s) => s.loopDelay.p99Ms))) },
    { label: 'event-loop utilization in the blocked intervals (mean)', value: formatPercent(mean(blocked.map((s) => s.loopUtilization))) },
    { label: 'CPU in the blocked intervals (mean)', value: `${mean(blocked.map((s) => s.cpuPercent)).toFixed(0)}%` },
    { label: 'when', value: describeRanges(ranges) },
  ];
  if (blocks.length) evidence.push({ label: 'block events captured with stacks', value: String(blocks.length) });
  const top = stacks[0]?.frames.find((f) => !isNodeInternal(f)) ?? stacks[0]?.frames[0];
  const finding: Finding = {
    kind: 'event-loop-blocking',
    severity: worst >= th.blockSevereMs || share >= 0.25 ? 'critical' : 'warning',
    title: 'Event-loop blocking',
    summary:
      `Synchronous work held the event loop for up to ${formatMs(worst)} in ${blocked.length} of ${samples.length} intervals; ` +
      `while it runs, no request, timer or I/O callback is served.` +
      (top ? ` Most blocked time was in ${formatFrame(top)}.` : ''),
    evidence,
    ranges,
    nextStep: top
      ? `Look at ${top.functionName} (${top.file}:${top.line}) in the stacks below: move that work off the event loop (worker_threads, smaller chunks with setImmediate, async APIs) or make it cheaper; \`hangwatch cpu -- <command>\` profiles it.`
      : 'Run `hangwatch cpu -- <command>` (or `hangwatch run`, whose block monitor captures the blocking stacks) to find the synchronous work; then move it off the event loop (worker_threads, smaller chunks with setImmediate, async APIs).',
  };
  if (stacks.length) finding.blockingStacks = stacks;
  return finding;
}

function findIoWait(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  const blockedSet = blockedIntervals(samples, th.blockDelayMs);
  const waiting = (s: IntervalSample): boolean =>
    s.cpuPercent < th.ioMaxCpuPercent && s.loopUtilization < th.ioMaxUtilization && s.pendingOperations >= th.ioMinPendingOperations && !blockedSet.has(s);
  const hits = samples.filter(waiting);
  // Most of the run, not a moment of it.
  if (samples.length === 0 || hits.length < Math.max(2, samples.length * 0.5)) return undefined;
  const types: Record<string, number> = {};
  for (const s of hits) for (const [type, n] of Object.entries(s.handlesByType)) types[type] = (types[type] ?? 0) + n / hits.length;
  const topTypes = Object.entries(types)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([type, n]) => `${type} ×${n.toFixed(0)}`)
    .join(', ');
  const ranges = rangesWhere(samples, waiting);
  return {
    kind: 'io-wait',
    severity: 'warning',
    title: 'Waiting on I/O',
    summary:
      `The process was mostly idle (CPU ${mean(hits.map((s) => s.cpuPercent)).toFixed(0)}%, event loop busy ${formatPercent(mean(hits.map((s) => s.loopUtilization)))}) ` +
      `while ${mean(hits.map((s) => s.pendingOperations)).toFixed(0)} operations were in flight on average: its time goes to waiting on something slow outside it.`,
    evidence: [
      { label: 'intervals waiting', value: `${hits.length} of ${samples.length}` },
      { label: 'CPU (mean, waiting intervals)', value: `${mean(hits.map((s) => s.cpuPercent)).toFixed(1)}%` },
      { label: 'event-loop utilization (mean)', value: formatPercent(mean(hits.map((s) => s.loopUtilization))) },
      { label: 'operations in flight (mean)', value: mean(hits.map((s) => s.pendingOperations)).toFixed(1) },
      { label: 'active handles by type (mean)', value: topTypes || 'none' },
      { label: 'when', value: describeRanges(ranges) },
    ],
    ranges,
    nextStep:
      'Find the slow dependency the operations wait on (database, disk, upstream HTTP, timers): time each call, check connection-pool sizes and concurrency limits, add caching or batching; the handle types above say which kind of I/O it is.',
  };
}

function findGcPressure(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  const wall = samples.reduce((a, s) => a + s.intervalMs, 0);
  const pause = samples.reduce((a, s) => a + s.gc.pauseMs, 0);
  const share = wall > 0 ? pause / wall : 0;
  if (share < th.gcMinShare) return undefined;
  const heavy = (s: IntervalSample): boolean => s.intervalMs > 0 && s.gc.pauseMs / s.intervalMs >= th.gcMinShare;
  const ranges = rangesWhere(samples, heavy);
  const count = samples.reduce((a, s) => a + s.gc.count, 0);
  const major = samples.reduce((a, s) => a + s.gc.majorCount, 0);
  return {
    kind: 'gc-pressure',
    severity: share >= 0.25 ? 'critical' : 'warning',
    title: 'Garbage-collection pressure',
    summary: `The process spent ${formatPercent(share)} of the run paused in garbage collection (${count} collections, ${major} major): allocation churn or a heap near its limit.`,
    evidence: [
      { label: 'time in GC pauses', value: `${formatMs(pause)} of ${formatMs(wall)} (${formatPercent(share)})` },
      { label: 'collections', value: `${count} (${major} major)` },
      { label: 'longest pause', value: formatMs(max(samples.map((s) => s.gc.maxPauseMs))) },
      { label: 'peak heap used / total', value: `${formatBytes(max(samples.map((s) => s.heapUsedBytes)))} / ${formatBytes(max(samples.map((s) => s.heapTotalBytes)))}` },
      { label: 'when', value: describeRanges(ranges) },
    ],
    ranges,
    nextStep:
      'Reduce allocation: profile allocations (`hangwatch heap`), reuse buffers and objects on hot paths, avoid large temporary arrays and strings; if the heap is near its limit, look for a leak or raise --max-old-space-size.',
  };
}

function findMemoryLeak(samples: IntervalSample[], th: DiagnosisThresholds, growing: GrowingConstructor[] | undefined): Finding | undefined {
  if (samples.length < th.minSamplesForTrend) return undefined;
  const series = postGcHeapSeries(samples);
  const trend = judgeHeapTrend(series.source, series.points, { minGrowthBytes: th.leakMinGrowthBytes, minRelativeGrowth: th.leakMinRelativeGrowth });
  if (!trend.leaking) return undefined;
  const first = trend.points[0] as { t: number; value: number };
  const last = trend.points[trend.points.length - 1] as { t: number; value: number };
  const growth = trend.growthBytes;
  const rate = trend.bytesPerSecond;
  const rss = lowerEnvelope(samples, (s) => s.rssBytes);
  const what =
    trend.source === 'after-full-gc'
      ? `heap after collections (${trend.points.length} full collections)`
      : trend.source === 'old-generation'
        ? 'heap after collections (old generation, low points)'
        : 'heap after collections (heap low points)';
  const finding: Finding = {
    kind: 'memory-leak',
    severity: growth >= 100 * 1024 * 1024 || trend.relativeGrowth >= 1 ? 'critical' : 'warning',
    title: 'Memory leak',
    summary:
      `The heap left after collections grew steadily, by ${formatBytes(growth)} (${formatPercent(trend.relativeGrowth)} of where it started, ${formatBytes(rate * 60)}/min), ` +
      `and never came back down: objects are being kept alive.`,
    evidence: [
      { label: what, value: `${formatBytes(first.value)} → ${formatBytes(last.value)}` },
      { label: 'growth rate (robust slope)', value: `${formatBytes(rate)}/s, ${formatBytes(rate * 60)}/min` },
      { label: 'growth relative to the start', value: formatPercent(trend.relativeGrowth) },
      { label: 'steps that rose', value: formatPercent(trend.risingShare) },
      { label: 'RSS low points', value: `${formatBytes((rss[0] as { value: number }).value)} → ${formatBytes((rss[rss.length - 1] as { value: number }).value)}` },
      { label: 'collections in the run', value: String(samples.reduce((a, s) => a + s.gc.count, 0)) },
      { label: 'when', value: formatRange(first.t, last.t) },
    ],
    ranges: [{ fromMs: first.t, toMs: last.t }],
    nextStep: growing?.length
      ? `Start with the constructors that grew most (below): find what retains them (\`hangwatch heap leaks\` retainer paths) — typically a cache or Map without eviction, listeners never removed, or closures kept by timers.`
      : 'Run the doctor again with --heap-snapshots (or take heap snapshots before and after some load and compare them with `hangwatch heap`) to find the growing constructors and what retains them — typically a cache or Map without eviction, listeners never removed, or closures kept by timers.',
  };
  if (growing?.length) finding.growingConstructors = growing;
  return finding;
}

function findHandleLeak(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  if (samples.length < th.minSamplesForTrend) return undefined;
  const envelope = lowerEnvelope(samples, (s) => s.activeHandles);
  const growth = sustainedGrowth(envelope, () => 1);
  if (growth < th.handleLeakMinGrowth) return undefined;
  const firstSample = samples[0] as IntervalSample;
  const lastSample = samples[samples.length - 1] as IntervalSample;
  const grew = Object.entries(lastSample.handlesByType)
    .map(([type, n]) => [type, n - (firstSample.handlesByType[type] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4);
  const first = envelope[0] as { t: number; value: number };
  const last = envelope[envelope.length - 1] as { t: number; value: number };
  return {
    kind: 'handle-leak',
    severity: 'warning',
    title: 'Handle leak',
    summary: `Active handles kept rising, from ${first.value} to ${last.value}, and did not fall back: resources are opened and never closed.`,
    evidence: [
      { label: 'active handles (low points)', value: `${first.value} → ${last.value}` },
      { label: 'growth rate', value: `${slopePerSecond(envelope).toFixed(1)}/s` },
      { label: 'types that grew', value: grew.map(([t, d]) => `${t} +${d}`).join(', ') || 'n/a' },
      { label: 'when', value: formatRange(first.t, last.t) },
    ],
    ranges: [{ fromMs: first.t, toMs: last.t }],
    nextStep: `Find where ${grew[0]?.[0] ?? 'these handles'} are created and make sure each is closed (sockets ended/destroyed, timers cleared, file handles closed, listeners removed); \`why-is-node-running\`-style handle listings at exit help.`,
  };
}

/**
 * Diagnose a run from its interval samples (oldest first).
 * @throws InvalidOptionError for samples or options of the wrong shape
 */
export function diagnose(samples: IntervalSample[], options?: DiagnoseOptions): Diagnosis {
  const list = validateSamples(samples);
  const opts = optionalObject<DiagnoseOptions>('options', options, DIAGNOSE_OPTION_KEYS);
  const thresholds = validateThresholds(opts.thresholds);
  if (opts.blocks !== undefined && !Array.isArray(opts.blocks)) throw new InvalidOptionError('blocks', 'an array of block events', opts.blocks);
  const pauses = opts.hangwatchPauses ?? [];
  if (!Array.isArray(pauses)) throw new InvalidOptionError('hangwatchPauses', 'an array of pauses', pauses);
  const blocks = programBlocks(opts.blocks ?? []);
  const growing = opts.growingConstructors ? [...opts.growingConstructors].sort(byRetainedThenSize).slice(0, TOP_GROWING) : undefined;
  const findings = [
    findBlocking(list, thresholds, blocks),
    findIoWait(list, thresholds),
    findGcPressure(list, thresholds),
    findMemoryLeak(list, thresholds, growing),
    findHandleLeak(list, thresholds),
  ].filter((f): f is Finding => f !== undefined);
  const summary = summarize(list, blocks, pauses);
  if (findings.length === 0) {
    findings.push({
      kind: 'healthy',
      severity: 'info',
      title: list.length ? 'No problem found' : 'No samples',
      summary: list.length
        ? 'The event loop stayed responsive, CPU, GC and I/O looked ordinary and memory and handles did not keep growing.'
        : 'The program ended before a single interval was sampled; nothing can be said.',
      evidence: [
        { label: 'longest event-loop delay', value: formatMs(summary.maxLoopDelayMs) },
        { label: 'CPU (mean / max)', value: `${summary.meanCpuPercent.toFixed(0)}% / ${summary.maxCpuPercent.toFixed(0)}%` },
        { label: 'peak heap used', value: formatBytes(summary.peakHeapUsedBytes) },
        { label: 'time in GC', value: formatMs(summary.gcPauseMs) },
        { label: 'samples', value: String(list.length) },
      ],
      ranges: [],
      nextStep: list.length ? 'Nothing to fix. Run the doctor again under the load that shows the problem, for longer if it grows slowly.' : 'Run longer (--duration) or sample faster (--interval).',
    });
  }
  const severity = { critical: 0, warning: 1, info: 2 } as const;
  findings.sort((a, b) => severity[a.severity] - severity[b.severity]);
  const diagnosis: Diagnosis = {
    schema: 'hangwatch.diagnosis',
    schemaVersion: 1,
    healthy: findings.every((f) => f.kind === 'healthy'),
    findings,
    summary,
    thresholds,
    hangwatchPauses: describePauses(pauses),
  };
  if (growing) diagnosis.growingConstructors = growing;
  return diagnosis;
}
