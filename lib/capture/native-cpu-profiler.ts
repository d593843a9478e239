/**
 * CPU profiling through the optional `v8-profiler-next` addon, used only when installed and
 * chosen. Its output is converted to exactly the inspector's `.cpuprofile` shape (0-based
 * positions, string script ids), so everything downstream is backend-agnostic.
 *
 * The addon has one sampling interval per thread, which cannot change while a profile records:
 * starting a second recording with another interval throws `ProfilerBusyError`.
 */
import type { CpuProfilerBackend } from './cpu-profiler-backend.js';
import type { CpuProfileNode, RawCpuProfile } from './profile-format.js';
import { ProfilerBackendUnavailableError, ProfilerBusyError } from './errors.js';

interface V8ProfilerNext {
  setGenerateType(type: 0 | 1): void;
  setSamplingInterval(us: number): void;
  startProfiling(name: string, recsamples: boolean): void;
  stopProfiling(name: string): { delete(): void } | undefined;
}

interface AddonNode {
  id: number;
  hitCount?: number;
  children?: number[];
  callFrame: {
    functionName: string;
    scriptId: number | string;
    url: string;
    lineNumber: number;
    columnNumber: number;
    lineTicks?: Array<{ line: number; hitCount: number }>;
  };
}

const MODULE_NAME = 'v8-profiler-next';
let loaded: Promise<V8ProfilerNext> | undefined;
let sequence = 0;
let activeInterval: number | undefined;
let activeCount = 0;

function load(): Promise<V8ProfilerNext> {
  loaded ??= import(MODULE_NAME).then(
    (mod: { default?: V8ProfilerNext } & V8ProfilerNext) => {
      const addon = mod.default ?? mod;
      // "tree" mode gives the flat `nodes` array of the inspector format.
      addon.setGenerateType(1);
      return addon;
    },
    (err: unknown) => {
      loaded = undefined;
      throw new ProfilerBackendUnavailableError(
        'hangwatch: the optional "v8-profiler-next" addon is not installed or failed to load',
        { cause: err },
      );
    },
  );
  return loaded;
}

export class NativeCpuProfiler implements CpuProfilerBackend {
  readonly name = 'v8-profiler-next' as const;
  readonly #addon: V8ProfilerNext;
  #title: string | undefined;

  private constructor(addon: V8ProfilerNext) {
    this.#addon = addon;
  }

  static async create(): Promise<NativeCpuProfiler> {
    return new NativeCpuProfiler(await load());
  }

  start(intervalUs: number): void {
    if (activeCount > 0 && activeInterval !== intervalUs) {
      throw new ProfilerBusyError(
        `hangwatch: v8-profiler-next is recording at ${activeInterval} µs on this thread; it cannot record at ${intervalUs} µs at the same time`,
      );
    }
    const title = `hangwatch-${process.pid}-${++sequence}`;
    try {
      if (activeCount === 0) this.#addon.setSamplingInterval(intervalUs);
      this.#addon.startProfiling(title, true);
    } catch (err) {
      throw new ProfilerBusyError('hangwatch: v8-profiler-next could not start', { cause: err });
    }
    activeCount++;
    activeInterval = intervalUs;
    this.#title = title;
  }

  stop(): RawCpuProfile {
    const title = this.#title;
    if (title === undefined) throw new ProfilerBusyError('hangwatch: v8-profiler-next is not recording');
    this.#title = undefined;
    activeCount--;
    let profile: { delete(): void } | undefined;
    try {
      profile = this.#addon.stopProfiling(title);
    } catch (err) {
      throw new ProfilerBusyError('hangwatch: v8-profiler-next failed to stop the recording', { cause: err });
    }
    if (!profile) throw new ProfilerBusyError('hangwatch: v8-profiler-next lost the recording');
    try {
      // The addon's object serializes to the .cpuprofile JSON with 1-based positions.
      const raw = JSON.parse(JSON.stringify(profile)) as {
        nodes: AddonNode[];
        startTime: number;
        endTime: number;
        samples?: number[];
        timeDeltas?: number[];
      };
      return {
        nodes: raw.nodes.map(toInspectorNode),
        startTime: raw.startTime,
        endTime: raw.endTime,
        samples: raw.samples ?? [],
        timeDeltas: raw.timeDeltas ?? [],
      };
    } finally {
      profile.delete();
    }
  }

  dispose(): void {
    if (this.#title === undefined) return;
    try {
      this.stop();
    } catch {
      // abandoned anyway
    }
  }
}

function toInspectorNode(node: AddonNode): CpuProfileNode {
  const cf = node.callFrame;
  const out: CpuProfileNode = {
    id: node.id,
    callFrame: {
      functionName: cf.functionName,
      scriptId: String(cf.scriptId),
      url: cf.url,
      lineNumber: cf.lineNumber > 0 ? cf.lineNumber - 1 : -1,
      columnNumber: cf.columnNumber > 0 ? cf.columnNumber - 1 : -1,
    },
    hitCount: node.hitCount ?? 0,
    children: node.children ?? [],
  };
  if (cf.lineTicks?.length) out.positionTicks = cf.lineTicks.map((t) => ({ line: t.line, ticks: t.hitCount }));
  return out;
}
