/**
 * Allocation sampling on the inspector `HeapProfiler` domain (V8's sampling heap profiler) — no
 * native addon. V8 samples on average one allocation every `samplingInterval` bytes (Poisson
 * process) and keeps each sample, with its JS stack, until the object is garbage-collected.
 */
import type { HeapSampler, HeapSamplerOptions } from '../lib/capture/heap-sampler-backend.js';
import type { RawSamplingHeapProfile, SamplingHeapProfileNode } from '../lib/capture/profile-format.js';
import { ProfilerBusyError } from '../lib/capture/errors.js';
import { InspectorSession, isOwnInspectorPost } from './inspector-session.js';

export class InspectorHeapSampler implements HeapSampler {
  readonly name = 'inspector' as const;
  #session: InspectorSession | undefined;

  start(options: HeapSamplerOptions): void {
    const session = new InspectorSession();
    try {
      session.post('HeapProfiler.enable');
      session.post('HeapProfiler.startSampling', {
        samplingInterval: options.samplingIntervalBytes,
        ...(options.includeCollected
          ? { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }
          : {}),
      });
    } catch (err) {
      session.disconnect();
      throw new ProfilerBusyError('hangwatch: the inspector allocation sampler could not start on this thread', {
        cause: err,
      });
    }
    this.#session = session;
  }

  get active(): boolean {
    return this.#session !== undefined;
  }

  profile(): RawSamplingHeapProfile {
    const session = this.#session;
    if (!session) throw new ProfilerBusyError('hangwatch: the allocation sampler is not running');
    return withoutOwnCalls(
      session.post<{ profile: RawSamplingHeapProfile }>('HeapProfiler.getSamplingProfile').profile,
    );
  }

  stop(): void {
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    try {
      session.post('HeapProfiler.stopSampling');
    } catch {
      // the session goes away anyway
    }
    session.disconnect();
  }
}

/**
 * Remove what hangwatch itself allocated while talking to the inspector (e.g. the previous
 * `getSamplingProfile` reply): subtrees under `node:inspector` `post` called from our session,
 * and their samples. Mutates and returns the (freshly parsed) profile.
 */
export function withoutOwnCalls(profile: RawSamplingHeapProfile): RawSamplingHeapProfile {
  const removed = new Set<number>();
  const collect = (n: SamplingHeapProfileNode): void => {
    removed.add(n.id);
    for (const c of n.children ?? []) collect(c);
  };
  const visit = (n: SamplingHeapProfileNode): void => {
    if (!n.children?.length) return;
    n.children = n.children.filter((c) => {
      if (isOwnInspectorPost(c.callFrame, n.callFrame)) {
        collect(c);
        return false;
      }
      visit(c);
      return true;
    });
  };
  visit(profile.head);
  if (removed.size && Array.isArray(profile.samples))
    profile.samples = profile.samples.filter((s) => !removed.has(s.nodeId));
  return profile;
}
