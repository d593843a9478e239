/**
 * Aggregate a sampled CPU profile per function, the way pstats aggregates cProfile's data:
 *
 * - self time: duration of the samples whose top (visible) frame is the function;
 * - cumulative time: duration of the samples with the function anywhere on the stack, counted once
 *   per sample even when the function recurses;
 * - caller → callee edges: duration of the samples where the caller directly called the callee,
 *   also counted once per sample.
 *
 * A sample's duration is the gap to the next sample (V8's `timeDeltas`), the last one ends at
 * `endTime` — the same rule Chrome DevTools uses. Frames hidden by the filter pass their time to the
 * nearest visible caller; a sample with no visible frame at all is charged to `(filtered)`.
 */
import type { FrameFilter } from '../capture/frame-filter.js';
import type { RawCpuProfile } from '../capture/profile-format.js';
import type { ProfileFrameResolver } from '../capture/profile-frame.js';
import { isSyntheticFrame } from '../capture/profile-frame.js';
import type { StackFrame } from '../capture/stack-frame.js';

export const FILTERED_KEY = '(filtered)';

export interface FunctionInfo {
  /** `functionName (file:line)`, or V8's name for synthetic frames, e.g. `(garbage collector)`. */
  key: string;
  frame: StackFrame;
}

export interface EdgeTotals {
  timeUs: number;
  samples: number;
}

export interface ProfileAggregate {
  functions: FunctionInfo[];
  selfUs: Float64Array;
  selfSamples: Uint32Array;
  totalUs: Float64Array;
  totalSamples: Uint32Array;
  /** callee id → caller id → totals */
  callers: Map<number, Map<number, EdgeTotals>>;
  /** caller id → callee id → totals */
  callees: Map<number, Map<number, EdgeTotals>>;
  /** Time and sample count of every counted sample (idle excluded unless asked). */
  profiledUs: number;
  profiledSamples: number;
  /** Per function, per 1-based source line: samples on that line as top frame (from positionTicks). */
  lineTicks: Map<number, Map<number, number>>;
}

export function functionKey(frame: StackFrame): string {
  return frame.file ? `${frame.functionName} (${frame.file}:${frame.line})` : frame.functionName;
}

/** Duration in µs of every sample, and the node id of each. */
export function sampleDurations(profile: RawCpuProfile): { nodeIds: number[]; durations: Float64Array } {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const durations = new Float64Array(samples.length);
  if (samples.length === 0) return { nodeIds: [], durations };
  if (deltas.length !== samples.length) {
    // No usable timing: spread the recorded time evenly.
    const each = Math.max(0, profile.endTime - profile.startTime) / samples.length;
    durations.fill(each);
    return { nodeIds: samples, durations };
  }
  let t = profile.startTime;
  const stamps = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] as number;
    stamps[i] = t;
  }
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? (stamps[i + 1] as number) : Math.max(profile.endTime, stamps[i] as number);
    durations[i] = Math.max(0, next - (stamps[i] as number));
  }
  return { nodeIds: samples, durations };
}

/** Index of every node id, and the index of each node's parent (-1 for the root). */
export function indexNodes(profile: RawCpuProfile): { byId: Map<number, number>; parent: Int32Array } {
  const byId = new Map<number, number>();
  const parent = new Int32Array(profile.nodes.length).fill(-1);
  profile.nodes.forEach((n, i) => byId.set(n.id, i));
  profile.nodes.forEach((n, i) => {
    for (const c of n.children ?? []) {
      const ci = byId.get(c);
      if (ci !== undefined) parent[ci] = i;
    }
  });
  return { byId, parent };
}

/** Time (µs) and sample count per node index. Without samples, hit counts share the duration. */
export function nodeTotals(profile: RawCpuProfile): { us: Float64Array; count: Uint32Array } {
  const { byId } = indexNodes(profile);
  const us = new Float64Array(profile.nodes.length);
  const count = new Uint32Array(profile.nodes.length);
  const { nodeIds, durations } = sampleDurations(profile);
  if (nodeIds.length > 0) {
    for (let s = 0; s < nodeIds.length; s++) {
      const i = byId.get(nodeIds[s] as number);
      if (i === undefined) continue;
      us[i] = (us[i] as number) + (durations[s] as number);
      count[i] = (count[i] as number) + 1;
    }
  } else {
    const hits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
    const each = hits ? Math.max(0, profile.endTime - profile.startTime) / hits : 0;
    profile.nodes.forEach((n, i) => {
      count[i] = n.hitCount ?? 0;
      us[i] = (n.hitCount ?? 0) * each;
    });
  }
  return { us, count };
}

export interface AggregateOptions {
  filter: FrameFilter;
  resolver: ProfileFrameResolver;
  includeIdle: boolean;
}

export function aggregateCpuProfile(
  profile: RawCpuProfile,
  { filter, resolver, includeIdle }: AggregateOptions,
): ProfileAggregate {
  const { parent } = indexNodes(profile);

  // Function id of every node (-1: hidden).
  const functions: FunctionInfo[] = [];
  const idOfKey = new Map<string, number>();
  const fnOfNode = new Int32Array(profile.nodes.length).fill(-1);
  const idleNode = new Uint8Array(profile.nodes.length);
  const intern = (key: string, frame: StackFrame): number => {
    let id = idOfKey.get(key);
    if (id === undefined) {
      id = functions.length;
      functions.push({ key, frame });
      idOfKey.set(key, id);
    }
    return id;
  };
  profile.nodes.forEach((n, i) => {
    const cf = n.callFrame;
    if (isSyntheticFrame(cf)) {
      if (cf.functionName === '(root)') return;
      if (cf.functionName === '(idle)') {
        idleNode[i] = 1;
        if (!includeIdle) return;
      }
    }
    const frame = resolver.resolve(cf);
    if (!filter.keeps(frame)) return;
    fnOfNode[i] = intern(functionKey(frame), frame);
  });

  const { us: nodeUs, count: nodeSamples } = nodeTotals(profile);

  const selfUs = new Float64Array(functions.length + 1);
  const selfSamples = new Uint32Array(functions.length + 1);
  const totalUs = new Float64Array(functions.length + 1);
  const totalSamples = new Uint32Array(functions.length + 1);
  const callers = new Map<number, Map<number, EdgeTotals>>();
  const callees = new Map<number, Map<number, EdgeTotals>>();
  const lineTicks = new Map<number, Map<number, number>>();
  let profiledUs = 0;
  let profiledSamples = 0;
  let filteredId = -1;

  const addEdge = (map: Map<number, Map<number, EdgeTotals>>, a: number, b: number, us: number, n: number): void => {
    let inner = map.get(a);
    if (!inner) map.set(a, (inner = new Map()));
    const e = inner.get(b);
    if (e) {
      e.timeUs += us;
      e.samples += n;
    } else inner.set(b, { timeUs: us, samples: n });
  };

  const seen = new Set<number>();
  const seenEdge = new Set<number>();
  const stack: number[] = [];
  for (let i = 0; i < profile.nodes.length; i++) {
    const n = nodeSamples[i] as number;
    if (n === 0) continue;
    if (idleNode[i] && !includeIdle) continue;
    const us = nodeUs[i] as number;
    profiledUs += us;
    profiledSamples += n;

    stack.length = 0;
    for (let j = i; j >= 0; j = parent[j] as number) {
      const f = fnOfNode[j] as number;
      if (f >= 0) stack.push(f);
    }
    if (stack.length === 0) {
      if (filteredId < 0)
        filteredId = intern(FILTERED_KEY, { functionName: FILTERED_KEY, file: '', line: 0, column: 0 });
      stack.push(filteredId);
    }
    const top = stack[0] as number;
    selfUs[top] = (selfUs[top] as number) + us;
    selfSamples[top] = (selfSamples[top] as number) + n;
    if (fnOfNode[i] === top) {
      for (const pt of profile.nodes[i]?.positionTicks ?? []) {
        let lines = lineTicks.get(top);
        if (!lines) lineTicks.set(top, (lines = new Map()));
        lines.set(pt.line, (lines.get(pt.line) ?? 0) + pt.ticks);
      }
    }
    seen.clear();
    seenEdge.clear();
    for (let k = 0; k < stack.length; k++) {
      const f = stack[k] as number;
      if (!seen.has(f)) {
        seen.add(f);
        totalUs[f] = (totalUs[f] as number) + us;
        totalSamples[f] = (totalSamples[f] as number) + n;
      }
      if (k + 1 < stack.length) {
        const caller = stack[k + 1] as number;
        const edge = caller * 0x200000 + f;
        if (!seenEdge.has(edge)) {
          seenEdge.add(edge);
          addEdge(callers, f, caller, us, n);
          addEdge(callees, caller, f, us, n);
        }
      }
    }
  }

  const size = functions.length;
  return {
    functions,
    selfUs: selfUs.slice(0, size),
    selfSamples: selfSamples.slice(0, size),
    totalUs: totalUs.slice(0, size),
    totalSamples: totalSamples.slice(0, size),
    callers,
    callees,
    profiledUs,
    profiledSamples,
    lineTicks,
  };
}
