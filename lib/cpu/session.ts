/**
 * Programmatic CPU profiling, like `cProfile.Profile().enable()/disable()` and `cProfile.run`:
 * `startCpuProfile()` returns a session whose `stop()` gives a `CpuProfile`; `cpuProfile(fn)`
 * profiles one call. Each session profiles the thread it was started on (a worker thread profiles
 * itself). Sessions may overlap: each has its own inspector session and V8 sampler.
 */
import { measureSelfPause } from '../capture/self-pause.js';
import { threadId } from 'node:worker_threads';
import {
  CPU_PROFILER_BACKENDS,
  createCpuProfilerBackend,
  type CpuProfilerBackend,
  type CpuProfilerBackendName,
} from '../capture/cpu-profiler.js';
import type { RawCpuProfile } from '../capture/profile-format.js';
import { enumOption, numberOption, optionalObject, optionKeys, requiredFunction } from '../validate.js';
import { CpuProfile, type CpuProfileViewOptions } from './cpu-profile.js';
import { ProfilerNotRunningError } from './errors.js';

const CPU_PROFILE_OPTION_KEYS = optionKeys<CpuProfileOptions>({
  excludeNodeInternals: true,
  include: true,
  exclude: true,
  includeIdle: true,
  sourceMaps: true,
  samplingIntervalUs: true,
  backend: true,
  maxDurationMs: true,
});

export interface CpuProfileOptions extends CpuProfileViewOptions {
  /** Sampling interval in microseconds (default 1000; 100 for fine detail at higher cost). */
  samplingIntervalUs?: number;
  /** `inspector` (default, native-free) or `v8-profiler-next` (optional addon; must be installed). */
  backend?: CpuProfilerBackendName;
  /**
   * Stop sampling by itself after this many ms (a forgotten session would otherwise grow by about
   * 16 bytes per sample forever). `stop()` then returns the profile up to that point, with
   * `meta.truncated` set. Default: no limit.
   */
  maxDurationMs?: number;
}

export const DEFAULT_SAMPLING_INTERVAL_US = 1000;

export class CpuProfileSession {
  readonly samplingIntervalUs: number;
  readonly backend: CpuProfilerBackendName;
  readonly startEpochMs: number;
  #profiler: CpuProfilerBackend | undefined;
  readonly #view: CpuProfileViewOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Recording ended by `maxDurationMs`, waiting for `stop()`. */
  #autoStopped: RawCpuProfile | undefined;

  /** @internal use `startCpuProfile()` */
  constructor(
    profiler: CpuProfilerBackend,
    samplingIntervalUs: number,
    view: CpuProfileViewOptions,
    maxDurationMs?: number,
  ) {
    this.#profiler = profiler;
    this.backend = profiler.name;
    this.samplingIntervalUs = samplingIntervalUs;
    this.#view = view;
    this.startEpochMs = Date.now();
    if (maxDurationMs !== undefined) {
      this.#timer = setTimeout(() => this.#autoStop(), maxDurationMs);
      this.#timer.unref();
    }
  }

  /** True while the session holds a recording that `stop()` will return. */
  get active(): boolean {
    return this.#profiler !== undefined;
  }

  /** True once `maxDurationMs` ended the sampling (the recording is kept for `stop()`). */
  get truncated(): boolean {
    return this.#autoStopped !== undefined;
  }

  #autoStop(): void {
    this.#timer = undefined;
    const profiler = this.#profiler;
    if (!profiler || this.#autoStopped) return;
    try {
      this.#autoStopped = measureSelfPause('cpu-profiler', () => profiler.stop());
    } catch {
      // the recording is lost; stop() will report it
      this.#profiler = undefined;
      profiler.dispose();
    }
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
    if (this.#timer) clearTimeout(this.#timer);
    const truncated = this.#autoStopped !== undefined;
    const raw = this.#autoStopped ?? measureSelfPause('cpu-profiler', () => profiler.stop());
    this.#autoStopped = undefined;
    return new CpuProfile(
      raw,
      {
        samplingIntervalUs: this.samplingIntervalUs,
        backend: this.backend,
        startEpochMs: this.startEpochMs,
        threadId,
        ...(truncated ? { truncated } : {}),
      },
      this.#view,
    );
  }

  /** Abandon the recording without building a profile; never throws. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#autoStopped) this.#profiler?.dispose();
    this.#autoStopped = undefined;
    this.#profiler = undefined;
  }
}

interface ParsedOptions {
  maxDurationMs: number | undefined;
  intervalUs: number;
  backend: CpuProfilerBackendName;
  view: CpuProfileViewOptions;
}

function parseOptions(options: unknown): ParsedOptions {
  const o = optionalObject<CpuProfileOptions>('options', options, CPU_PROFILE_OPTION_KEYS);
  const intervalUs = numberOption('samplingIntervalUs', o.samplingIntervalUs, DEFAULT_SAMPLING_INTERVAL_US, {
    min: 1,
    max: 1_000_000,
    integer: true,
  });
  const backend = enumOption('backend', o.backend, CPU_PROFILER_BACKENDS, 'inspector');
  const maxDurationMs =
    o.maxDurationMs === undefined
      ? undefined
      : numberOption('maxDurationMs', o.maxDurationMs, 0, { min: 1, max: 2 ** 31 - 1 });
  const { samplingIntervalUs: _i, backend: _b, maxDurationMs: _m, ...view } = o;
  // Validate the view options now, not at stop().
  new CpuProfile({ nodes: [], startTime: 0, endTime: 0 }, {}, view);
  return { intervalUs, backend, view, maxDurationMs };
}

/** Start recording the current thread. Rejects with `ProfilerBusyError` if the profiler cannot start. */
export async function startCpuProfile(options: CpuProfileOptions = {}): Promise<CpuProfileSession> {
  const { intervalUs, backend, view, maxDurationMs } = parseOptions(options);
  const profiler = await createCpuProfilerBackend(backend);
  measureSelfPause('cpu-profiler', () => profiler.start(intervalUs));
  return new CpuProfileSession(profiler, intervalUs, view, maxDurationMs);
}

/**
 * Profile one call of `fn` (sync or async). If `fn` throws, the recording is discarded and the
 * error is rethrown unchanged.
 */
export async function cpuProfile<T>(
  fn: () => T | Promise<T>,
  options: CpuProfileOptions = {},
): Promise<{ result: T; profile: CpuProfile }> {
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
