/**
 * `diagnose(samples)`: from the per-interval series of a run (CPU, memory, handles, event-loop
 * delay and utilization, GC), name what is wrong — event-loop blocking, I/O wait, GC pressure,
 * memory leak, handle leak, synchronous I/O after start-up — each with its evidence and a next step, or say the run looked healthy.
 *
 * The rules and thresholds are documented in docs/cli.md ("How the doctor decides"); every
 * threshold can be overridden.
 */
import { InvalidOptionError } from '../errors.js';
import type { BlockEvent } from '../loop/index.js';
import {
  byRetainedThenSize,
  type Diagnosis,
  type DiagnosisSummary,
  type DiagnosisThresholds,
  type Finding,
  type GrowingConstructor,
  type HangwatchPause,
} from '../report/diagnosis.js';
import { formatBytes, formatMs } from '../report/format-units.js';
import type { SyncIoReport } from '../report/sync-io-report.js';
import { numberOption, optionalObject, optionKeys } from '../validate.js';
import { findBlocking, programBlocks } from './diagnosis/blocking.js';
import { findGcPressure } from './diagnosis/gc-pressure.js';
import { findHandleLeak } from './diagnosis/handle-leak.js';
import { describePauses } from './diagnosis/hangwatch-pauses.js';
import { findIoWait } from './diagnosis/io-wait.js';
import { findMemoryLeak } from './diagnosis/memory-leak.js';
import { max, mean } from './diagnosis/series.js';
import { findSyncIo, summarizeSyncIo } from './diagnosis/sync-io.js';
import { validateThresholds } from './diagnosis/thresholds.js';
import type { IntervalSample } from './interval-sampler.js';

export { DEFAULT_THRESHOLDS } from './diagnosis/thresholds.js';

const DIAGNOSE_OPTION_KEYS = optionKeys<DiagnoseOptions>({
  blocks: true,
  growingConstructors: true,
  hangwatchPauses: true,
  syncIo: true,
  thresholds: true,
  samplesEpochMs: true,
});

export interface DiagnoseOptions {
  /** Block events from the block monitor: their stacks are attached to an event-loop-blocking finding. */
  blocks?: BlockEvent[];
  /** From a heap snapshot pair: shown whatever the findings, and attached to a memory-leak finding. */
  growingConstructors?: GrowingConstructor[];
  /** hangwatch's own pauses of the program (`SupervisedRun.hangwatchPauses`): shown apart, never blamed on it. */
  hangwatchPauses?: HangwatchPause[];
  /** Synchronous I/O after start-up by call site (`SupervisedRun.syncIo`, `traceSyncIo().report()`): a finding when there is enough of it, and shown whatever the findings. */
  syncIo?: SyncIoReport;
  thresholds?: Partial<DiagnosisThresholds>;
  /**
   * Wall-clock time (ms since the epoch) of the samples' `t = 0` (`Date.parse(run.startedAt)` for a
   * `SupervisedRun`). With it, a long delay whose block events all say the process was starved
   * (not scheduled) is not counted as the program's blocking.
   */
  samplesEpochMs?: number;
}

/** Growing constructors kept (most retained first). */
const TOP_GROWING = 10;

function validateSamples(samples: unknown): IntervalSample[] {
  if (!Array.isArray(samples)) throw new InvalidOptionError('samples', 'an array of interval samples', samples);
  samples.forEach((s, i) => {
    const ok =
      s &&
      typeof s === 'object' &&
      typeof s.t === 'number' &&
      typeof s.intervalMs === 'number' &&
      s.loopDelay &&
      typeof s.loopDelay.maxMs === 'number';
    if (!ok) throw new InvalidOptionError(`samples[${i}]`, 'an interval sample (t, intervalMs, loopDelay, ...)', s);
  });
  return samples as IntervalSample[];
}

function summarize(samples: IntervalSample[], blocks: BlockEvent[], pauses: HangwatchPause[]): DiagnosisSummary {
  return {
    durationMs: samples.length
      ? (samples[samples.length - 1] as IntervalSample).t -
        Math.max(0, (samples[0] as IntervalSample).t - (samples[0] as IntervalSample).intervalMs)
      : 0,
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
 * Diagnose a run from its interval samples (oldest first).
 * @throws InvalidOptionError for samples or options of the wrong shape
 */
export function diagnose(samples: IntervalSample[], options?: DiagnoseOptions): Diagnosis {
  const list = validateSamples(samples);
  const opts = optionalObject<DiagnoseOptions>('options', options, DIAGNOSE_OPTION_KEYS);
  const thresholds = validateThresholds(opts.thresholds);
  if (opts.blocks !== undefined && !Array.isArray(opts.blocks))
    throw new InvalidOptionError('blocks', 'an array of block events', opts.blocks);
  const pauses = opts.hangwatchPauses ?? [];
  if (!Array.isArray(pauses)) throw new InvalidOptionError('hangwatchPauses', 'an array of pauses', pauses);
  const blocks = programBlocks(opts.blocks ?? []);
  const growing = opts.growingConstructors
    ? [...opts.growingConstructors].sort(byRetainedThenSize).slice(0, TOP_GROWING)
    : undefined;
  const syncIo = opts.syncIo === undefined ? undefined : summarizeSyncIo(opts.syncIo);
  const summary = summarize(list, blocks, pauses);
  const findings = [
    findBlocking(
      list,
      thresholds,
      blocks,
      opts.samplesEpochMs === undefined
        ? undefined
        : numberOption('samplesEpochMs', opts.samplesEpochMs, 0, { min: 0 }),
    ),
    findIoWait(list, thresholds),
    findGcPressure(list, thresholds),
    findMemoryLeak(list, thresholds, growing),
    findHandleLeak(list, thresholds),
    findSyncIo(syncIo, summary.durationMs, thresholds),
  ].filter((f): f is Finding => f !== undefined);
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
        {
          label: 'CPU (mean / max)',
          value: `${summary.meanCpuPercent.toFixed(0)}% / ${summary.maxCpuPercent.toFixed(0)}%`,
        },
        { label: 'peak heap used', value: formatBytes(summary.peakHeapUsedBytes) },
        { label: 'time in GC', value: formatMs(summary.gcPauseMs) },
        { label: 'samples', value: String(list.length) },
      ],
      ranges: [],
      nextStep: list.length
        ? 'Nothing to fix. Run the doctor again under the load that shows the problem, for longer if it grows slowly.'
        : 'Run longer (--duration) or sample faster (--interval).',
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
  if (syncIo) diagnosis.syncIo = syncIo;
  return diagnosis;
}
