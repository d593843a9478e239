/**
 * CPU profiling on the inspector `Profiler` domain — no native addon. Each recording uses its own
 * in-thread session, so it profiles the thread it was started on (a worker profiles itself), and
 * several recordings may run at once (V8 gives every session its own sampler).
 */
import type { CpuProfilerBackend } from '../lib/capture/cpu-profiler-backend.js';
import type { RawCpuProfile } from '../lib/capture/profile-format.js';
import { ProfilerBusyError } from '../lib/capture/errors.js';
import { InspectorSession, isOwnInspectorPost } from './inspector-session.js';

export class InspectorCpuProfiler implements CpuProfilerBackend {
  readonly name = 'inspector' as const;
  #session: InspectorSession | undefined;

  start(intervalUs: number): void {
    const session = new InspectorSession();
    try {
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: intervalUs });
      session.post('Profiler.start');
    } catch (err) {
      session.disconnect();
      throw new ProfilerBusyError('hangwatch: the inspector CPU profiler could not start on this thread', {
        cause: err,
      });
    }
    this.#session = session;
  }

  stop(): RawCpuProfile {
    const session = this.#session;
    if (!session) throw new ProfilerBusyError('hangwatch: the inspector CPU profiler is not running');
    this.#session = undefined;
    try {
      return trimOwnCalls(session.post<{ profile: RawCpuProfile }>('Profiler.stop').profile);
    } finally {
      session.disconnect();
    }
  }

  dispose(): void {
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    try {
      session.post('Profiler.stop');
    } catch {
      // the session is going away anyway
    }
    session.disconnect();
  }
}

/**
 * V8 samples while `Profiler.start` and `Profiler.stop` are being dispatched, so the first and last
 * samples of a recording would show hangwatch's own calls (`dispatch` under `node:inspector` `post`,
 * called from our inspector session; starting can take several ms while V8 logs existing code).
 * Drop those leading and trailing samples and let the recording start and end where they do.
 */
export function trimOwnCalls(profile: RawCpuProfile): RawCpuProfile {
  const samples = profile.samples;
  const deltas = profile.timeDeltas;
  if (!samples?.length || !deltas || deltas.length !== samples.length) return profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const own = new Map<number, boolean>();
  const isOwnCall = (id: number): boolean => {
    let cached = own.get(id);
    if (cached !== undefined) return cached;
    cached = false;
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (cf?.url === 'node:inspector' && cf.functionName === 'post') {
        cached = isOwnInspectorPost(cf, byId.get(parentOf.get(cur) ?? -1)?.callFrame);
        break;
      }
    }
    own.set(id, cached);
    return cached;
  };
  let first = 0;
  while (first < samples.length && isOwnCall(samples[first] as number)) first++;
  let end = samples.length;
  while (end > first && isOwnCall(samples[end - 1] as number)) end--;
  if (first === 0 && end === samples.length) return profile;
  const stamps: number[] = [];
  let t = profile.startTime;
  for (const d of deltas) stamps.push((t += d));
  const dropped = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) {
    if (i >= first && i < end) continue;
    dropped.set(samples[i] as number, (dropped.get(samples[i] as number) ?? 0) + 1);
  }
  const startTime = first > 0 ? (stamps[first] ?? profile.endTime) : profile.startTime;
  const endTime = end < samples.length ? (stamps[end] as number) : profile.endTime;
  const kept = deltas.slice(first, end);
  if (first > 0 && kept.length) kept[0] = 0;
  return {
    ...profile,
    nodes: profile.nodes.map((n) =>
      dropped.has(n.id) ? { ...n, hitCount: Math.max(0, (n.hitCount ?? 0) - (dropped.get(n.id) ?? 0)) } : n,
    ),
    samples: samples.slice(first, end),
    timeDeltas: kept,
    startTime: Math.min(startTime, endTime),
    endTime: Math.max(startTime, endTime),
  };
}
