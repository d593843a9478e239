/**
 * Continuous profiling to files: every period, the CPU profile of that period (and, if asked,
 * the live sampled allocations) is written as a pprof file (gzip-compressed protobuf) that
 * continuous-profiling agents and backends pick up (Pyroscope, Grafana Alloy, Google Cloud
 * Profiler agents, `go tool pprof`). Files are written atomically (temp name, then rename) and the
 * oldest are deleted beyond `maxFiles` per kind. Failures are reported, never thrown.
 *
 * ```ts
 * const exporter = await startPprofFileExport({ dir: '/var/lib/profiles', periodSeconds: 60 });
 * // ... at shutdown
 * await exporter.stop();
 * ```
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { writeFileAtomicSync } from '../atomic-file.js';
import { join, resolve } from 'node:path';
import {
  isTrackingAllocations,
  startAllocationTracking,
  stopAllocationTracking,
  takeAllocationSnapshot,
} from '../alloc/tracking.js';
import { startCpuProfile, type CpuProfileSession } from '../cpu/session.js';
import { InvalidOptionError } from '../errors.js';
import { booleanOption, functionOption, numberOption, optionalObject, optionKeys, stringOption } from '../validate.js';

const PPROF_FILE_EXPORT_OPTION_KEYS = optionKeys<PprofFileExportOptions>({
  dir: true,
  periodSeconds: true,
  cpu: true,
  allocations: true,
  samplingIntervalUs: true,
  maxFiles: true,
  prefix: true,
  onFile: true,
  onError: true,
});

export type PprofKind = 'cpu' | 'alloc';

export interface PprofFileExportOptions {
  /** Directory of the files (created if missing). */
  dir: string;
  /** Length of each profile, seconds (default 60; 0.1 … 3600). */
  periodSeconds?: number;
  /** CPU profiles (default true). */
  cpu?: boolean;
  /** Live sampled allocations (starts allocation tracking unless already on; default false). */
  allocations?: boolean;
  /** CPU sampling interval, µs (default 10000 = 100 Hz, the usual continuous-profiling rate). */
  samplingIntervalUs?: number;
  /** Files kept per kind (default 60). */
  maxFiles?: number;
  /** File name prefix (default `hangwatch`): `<prefix>-<kind>-<pid>-<time>.pb.gz`. */
  prefix?: string;
  /** Called after each file is written. */
  onFile?: (path: string, kind: PprofKind) => void;
  /** Called when a period could not be written (default: one line on stderr). */
  onError?: (error: unknown) => void;
}

export interface PprofFileExport {
  /** Files written so far. */
  readonly written: number;
  /** Write the current period now and stop; idempotent. */
  stop(): Promise<void>;
}

export async function startPprofFileExport(options: PprofFileExportOptions): Promise<PprofFileExport> {
  const o = optionalObject<PprofFileExportOptions>('options', options, PPROF_FILE_EXPORT_OPTION_KEYS);
  const dir = resolve(stringOption('dir', o.dir, ''));
  if (o.dir === undefined || o.dir === '') throw new InvalidOptionError('dir', 'a directory path', o.dir);
  const periodMs = numberOption('periodSeconds', o.periodSeconds, 60, { min: 0.1, max: 3600 }) * 1000;
  const cpu = booleanOption('cpu', o.cpu, true);
  const allocations = booleanOption('allocations', o.allocations, false);
  if (!cpu && !allocations)
    throw new InvalidOptionError('cpu', 'true (or allocations: true): nothing to export', o.cpu);
  const samplingIntervalUs = numberOption('samplingIntervalUs', o.samplingIntervalUs, 10_000, {
    min: 1,
    max: 1_000_000,
    integer: true,
  });
  const maxFiles = numberOption('maxFiles', o.maxFiles, 60, { min: 1, max: 100_000, integer: true });
  const prefix = stringOption('prefix', o.prefix, 'hangwatch');
  if (!/^[\w.-]+$/.test(prefix)) throw new InvalidOptionError('prefix', 'letters, digits, ".", "_" or "-"', prefix);
  const onFile = functionOption<(path: string, kind: PprofKind) => void>('onFile', o.onFile);
  const onError =
    functionOption<(error: unknown) => void>('onError', o.onError) ??
    ((err: unknown) =>
      process.emitWarning(`hangwatch: pprof export failed: ${(err as Error)?.message ?? String(err)}`, {
        code: 'HANGWATCH_PPROF_EXPORT',
      }));
  mkdirSync(dir, { recursive: true });

  let written = 0;
  let session: CpuProfileSession | undefined = cpu
    ? await startCpuProfile({ samplingIntervalUs, maxDurationMs: periodMs * 2 + 10_000 })
    : undefined;
  const ownTracking = allocations && !isTrackingAllocations();
  if (ownTracking) startAllocationTracking({ peakPollIntervalMs: 0 });

  const write = (kind: PprofKind, data: Buffer): void => {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = `${prefix}-${kind}-${process.pid}-${stamp}.pb.gz`;
    writeFileAtomicSync(join(dir, name), data);
    written++;
    const mine = readdirSync(dir)
      .filter((f) => f.startsWith(`${prefix}-${kind}-`) && f.endsWith('.pb.gz'))
      .sort();
    for (const old of mine.slice(0, Math.max(0, mine.length - maxFiles))) {
      try {
        unlinkSync(join(dir, old));
      } catch {
        // already gone
      }
    }
    onFile?.(join(dir, name), kind);
  };

  let stopped = false;
  const rotate = async (last: boolean): Promise<void> => {
    if (session) {
      const ending = session;
      session = undefined;
      try {
        // The next period starts before this one is encoded, so no time goes unprofiled.
        if (!last) session = await startCpuProfile({ samplingIntervalUs, maxDurationMs: periodMs * 2 + 10_000 });
      } catch (err) {
        onError(err);
      }
      try {
        write('cpu', (await ending.stop()).toPprof());
      } catch (err) {
        onError(err);
      }
    }
    if (allocations) {
      try {
        if (isTrackingAllocations()) write('alloc', takeAllocationSnapshot().toPprof());
      } catch (err) {
        onError(err);
      }
    }
  };

  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : rotate(false)));
  }, periodMs);
  timer.unref();

  return {
    get written() {
      return written;
    },
    async stop() {
      if (stopped) return running;
      stopped = true;
      clearInterval(timer);
      running = running.then(() => rotate(true));
      await running;
      if (ownTracking) stopAllocationTracking();
    },
  };
}
