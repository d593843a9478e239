/**
 * Programmatic CPU profiling, like `cProfile.Profile().enable()/disable()` and `cProfile.run`:
 * `startCpuProfile()` returns a session whose `stop()` gives a `CpuProfile`; `cpuProfile(fn)`
 * profiles one call. Each session profiles the thread it was started on (a worker thread profiles
 * itself). Sessions may overlap: each has its own inspector session and V8 sampler.
 */
import { threadId } from 'node:worker_threads';
import { CPU_PROFILER_BACKENDS, createCpuProfilerBackend, type CpuProfilerBackend, type CpuProfilerBackendName } from '../capture/cpu-profiler.js';
import { enumOption, numberOption, optionalObject, requiredFunction } from '../validate.js';
import { CpuProfile, type CpuProfileViewOptions } from './cpu-profile.js';
import { ProfilerNotRunningError } from './errors.js';

export interface CpuProfileOptions extends CpuProfileViewOptions {
  /** Sampling interval in microseconds (default 1000; 100 for fine detail at higher cost). */
  samplingIntervalUs?: number;
  /** `inspector` (default, native-free) or `v8-profiler-next` (optional addon; must be installed). */
  backend?: CpuProfilerBackendName;
}

export const DEFAULT_SAMPLING_INTERVAL_US = 1000;

export class CpuProfileSession {
  readonly samplingIntervalUs: number;
  readonly backend: CpuProfilerBackendName;
  readonly startEpochMs: number;
  #profiler: CpuProfilerBackend | undefined;
  readonly #view: CpuProfileViewOptions;

  /** @internal use `startCpuProfile()` */
  constructor(profiler: CpuProfilerBackend, samplingIntervalUs: number, view: CpuProfileViewOptions) {
    this.#profiler = profiler;
    this.backend = profiler.name;
    this.samplingIntervalUs = samplingIntervalUs;
    this.#view = view;
    this.startEpochMs = Date.now();
  }

  get active(): boolean {
    return this.#profiler !== undefined;
  }

  /** End the recording. Rejects with `ProfilerNotRunningError` if already stopped. */
  async stop(): Promise<CpuProfile> {
    return this.stopSync();
  }

  /** Same as `stop()`, synchronously (the in-thread inspector answers synchronously). */
  stopSync(): CpuProfile {
    const profiler = this.#profiler;
    if (!profiler) throw new ProfilerNotRunningError('hangwatch: this CPU profile session has already stopped');
    this.#profiler = undefined;
    const raw = profiler.stop();
    return new CpuProfile(
      raw,
      { samplingIntervalUs: this.samplingIntervalUs, backend: this.backend, startEpochMs: this.startEpochMs, threadId },
      this.#view,
    );
  }

  /** Abandon the recording without building a profile; never throws. */
  dispose(): void {
    this.#profiler?.dispose();
    this.#profiler = undefined;
  }
}

interface ParsedOptions {
  intervalUs: number;
  backend: CpuProfilerBackendName;
  view: CpuProfileViewOptions;
}

function parseOptions(options: unknown): ParsedOptions {
  const o = optionalObject<CpuProfileOptions>('options', options);
  const intervalUs = numberOption('samplingIntervalUs', o.samplingIntervalUs, DEFAULT_SAMPLING_INTERVAL_US, { min: 1, max: 1_000_000, integer: true });
  const backend = enumOption('backend', o.backend, CPU_PROFILER_BACKENDS, 'inspector');
  const { samplingIntervalUs: _i, backend: _b, ...view } = o;
  // Validate the view options now, not at stop().
  new CpuProfile({ nodes: [], startTime: 0, endTime: 0 }, {}, view);
  return { intervalUs, backend, view };
}

/** Start recording the current thread. Rejects with `ProfilerBusyError` if the profiler cannot start. */
export async function startCpuProfile(options: CpuProfileOptions = {}): Promise<CpuProfileSession> {
  const { intervalUs, backend, view } = parseOptions(options);
  const profiler = await createCpuProfilerBackend(backend);
  profiler.start(intervalUs);
  return new CpuProfileSession(profiler, intervalUs, view);
}

/**
 * Profile one call of `fn` (sync or async). If `fn` throws, the recording is discarded and the
 * error is rethrown unchanged.
 */
export async function cpuProfile<T>(fn: () => T | Promise<T>, options: CpuProfileOptions = {}): Promise<{ result: T; profile: CpuProfile }> {
  const run = requiredFunction<() => T | Promise<T>>('fn', fn);
  const session = await startCpuProfile(options);
  let result: T;
  try {
    result = await run();
  } catch (err) {
    session.dispose();
    throw err;
  }
  return { result, profile: session.stopSync() };
}
