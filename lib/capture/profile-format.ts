/**
 * The raw profile shapes of the V8 inspector protocol, shared by every backend: `Profiler.Profile`
 * (the `.cpuprofile` file format that Chrome DevTools and speedscope open) and
 * `HeapProfiler.SamplingHeapProfile`. Positions in `callFrame` are 0-based, `-1` when unknown;
 * `positionTicks[].line` is 1-based.
 */

export interface ProfileCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: ProfileCallFrame;
  hitCount?: number;
  children?: number[];
  deoptReason?: string;
  positionTicks?: Array<{ line: number; ticks: number }>;
}

/** The `.cpuprofile` format. Times are microseconds on V8's monotonic clock. */
export interface RawCpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  /** Node id of the top frame of each sample. */
  samples?: number[];
  /** Microseconds from the previous sample (from `startTime` for the first). */
  timeDeltas?: number[];
}

export interface SamplingHeapProfileNode {
  callFrame: ProfileCallFrame;
  /** Estimated bytes of live sampled allocations made directly by this frame. */
  selfSize: number;
  id: number;
  children: SamplingHeapProfileNode[];
}

export interface SamplingHeapProfileSample {
  /** Estimated bytes this sample stands for (object size × sampling weight). */
  size: number;
  nodeId: number;
  ordinal: number;
}

export interface RawSamplingHeapProfile {
  head: SamplingHeapProfileNode;
  samples: SamplingHeapProfileSample[];
}
