/**
 * CPU profiling on the inspector `Profiler` domain — no native addon. Each recording uses its own
 * in-thread session, so it profiles the thread it was started on (a worker profiles itself), and
 * several recordings may run at once (V8 gives every session its own sampler).
 */
import type { CpuProfilerBackend } from '../lib/capture/cpu-profiler.js';
import type { RawCpuProfile } from '../lib/capture/profile-format.js';
import { ProfilerBusyError } from '../lib/capture/profiler-errors.js';
import { InspectorSession } from './inspector-session.js';

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
      throw new ProfilerBusyError('hangwatch: the inspector CPU profiler could not start on this thread', { cause: err });
    }
    this.#session = session;
  }

  stop(): RawCpuProfile {
    const session = this.#session;
    if (!session) throw new ProfilerBusyError('hangwatch: the inspector CPU profiler is not running');
    this.#session = undefined;
    try {
      return session.post<{ profile: RawCpuProfile }>('Profiler.stop').profile;
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
