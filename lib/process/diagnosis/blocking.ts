/**
 * The event-loop-blocking rule: which intervals the program itself held the loop in, which block
 * events are the program's (not hangwatch's own pauses), and their stacks grouped by the frame to blame.
 */
import { formatFrame, isNodeInternal, type StackFrame } from '../../capture/stack-frame.js';
import { isHangwatchFrame } from '../../capture/own-files.js';
import type { BlockEvent } from '../../loop/index.js';
import {
  type BlockingStack,
  type DiagnosisThresholds,
  type Evidence,
  type Finding,
  VISIBLE_STACK_FRAMES,
} from '../../report/diagnosis.js';
import { formatMs, formatPercent } from '../../report/format-units.js';
import type { IntervalSample } from '../interval-sampler.js';
import { describeRanges, max, mean, rangesWhere } from './series.js';

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

/**
 * The intervals in which the program itself held the event loop: a delay of at least the
 * threshold, with the loop busy for at least half of that delay in this interval or the one
 * before (a block always lies inside one sampling interval, but the delay probe may only record
 * it in the next one). A long delay while the loop was idle is a process starved of CPU by
 * others — real latency, but not the program's blocking.
 */
export function blockedIntervals(
  samples: IntervalSample[],
  blockDelayMs: number,
  starved?: Set<IntervalSample>,
): Set<IntervalSample> {
  const busyMs = (s: IntervalSample | undefined): number => (s ? s.loopUtilization * s.intervalMs : 0);
  const out = new Set<IntervalSample>();
  samples.forEach((s, i) => {
    if (starved?.has(s)) return;
    if (s.loopDelay.maxMs >= blockDelayMs && Math.max(busyMs(s), busyMs(samples[i - 1])) >= s.loopDelay.maxMs / 2)
      out.add(s);
  });
  return out;
}

/**
 * The intervals whose long delay the block monitor measured and found the main thread off CPU
 * for (every block event in the interval or the one before has `cause: 'starved'`): the process
 * was not scheduled — in a callback, so the loop counts as busy, but the delay is the machine's,
 * not the program's blocking. Needs the wall-clock time of the samples' `t = 0`
 * (`samplesEpochMs`); an interval with no block event, or any other event, keeps the delay rule.
 */
export function starvedIntervals(
  samples: IntervalSample[],
  blocks: BlockEvent[],
  samplesEpochMs: number | undefined,
  blockDelayMs: number,
): Set<IntervalSample> {
  const out = new Set<IntervalSample>();
  if (samplesEpochMs === undefined || blocks.length === 0) return out;
  const spans = blocks.map((b) => ({
    from: Date.parse(b.startedAt),
    to: Date.parse(b.startedAt) + b.durationMs,
    starved: b.cause === 'starved',
  }));
  samples.forEach((s, i) => {
    if (s.loopDelay.maxMs < blockDelayMs) return;
    const to = samplesEpochMs + s.t;
    const from = to - s.intervalMs - (samples[i - 1]?.intervalMs ?? 0);
    const inside = spans.filter((b) => b.from < to && b.to > from);
    if (inside.length > 0 && inside.every((b) => b.starved)) out.add(s);
  });
  return out;
}

export function findBlocking(
  samples: IntervalSample[],
  th: DiagnosisThresholds,
  allBlocks: BlockEvent[],
  samplesEpochMs?: number,
): Finding | undefined {
  const blockedSet = blockedIntervals(
    samples,
    th.blockDelayMs,
    starvedIntervals(samples, allBlocks, samplesEpochMs, th.blockDelayMs),
  );
  // A starved block's stack is whatever ran when the machine took the CPU away: not evidence.
  const blocks = allBlocks.filter((b) => b.cause !== 'starved');
  const blocked = samples.filter((s) => blockedSet.has(s));
  const worst = max(blocked.map((s) => s.loopDelay.maxMs));
  const share = samples.length ? blocked.length / samples.length : 0;
  const frequent = blocked.length >= th.blockMinIntervals && share >= th.blockMinShare;
  if (!frequent && worst < th.blockSevereMs) return undefined;
  const ranges = rangesWhere(samples, (s) => blockedSet.has(s));
  const stacks = topBlockingStacks(blocks);
  const evidence: Evidence[] = [
    { label: 'longest event-loop delay', value: formatMs(worst) },
    {
      label: `intervals with a delay ≥ ${formatMs(th.blockDelayMs)}`,
      value: `${blocked.length} of ${samples.length} (${formatPercent(share)})`,
    },
    {
      label: 'p99 delay in the blocked intervals (mean)',
      value: formatMs(mean(blocked.map((s) => s.loopDelay.p99Ms))),
    },
    {
      label: 'event-loop utilization in the blocked intervals (mean)',
      value: formatPercent(mean(blocked.map((s) => s.loopUtilization))),
    },
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
