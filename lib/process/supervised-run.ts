/**
 * Run a command with the preload and collect what it reports: the engine of `hangwatch run` and
 * `hangwatch doctor`. The command runs in its own process group, so that wrappers (`npm start`,
 * a shell) and the Node process they start are stopped together; the preloaded process that
 * reports is found through the channel (its `hello` record), and it is also sampled from
 * outside (CPU %, RSS: /proc on Linux, pidusage elsewhere), which keeps working while its event
 * loop is blocked.
 */
import type { SyncIoReport } from '../report/sync-io-report.js';
import { spawn, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SelfPause } from '../capture/self-pause.js';
import type { HangwatchPause } from '../report/diagnosis.js';
import type { BlockEvent } from '../loop/index.js';
import {
  createProcessUsageReader,
  type ProcessUsageReader,
  type ProcessUsageSource,
} from '../capture/process-usage.js';
import { CHANNEL_ENV, ChannelReader, type ChannelRecord, type HelloRecord } from './doctor-channel.js';
import { ChildStartError, ProcessSamplingUnsupportedError } from './errors.js';
import type { IntervalSample } from './interval-sampler.js';
import { environmentWithPreload } from './preload-location.js';

export interface ExternalSample {
  /** Milliseconds since the run started. */
  t: number;
  cpuPercent: number;
  rssBytes: number;
}

export interface SupervisedRunOptions {
  command: string;
  args: string[];
  /** Sampling interval, ms (in the program and from outside). */
  intervalMs: number;
  /** Stop the program after this long (SIGINT, then SIGTERM, then SIGKILL); undefined: wait for it to exit. */
  durationMs?: number;
  /**
   * At `durationMs`, keep the program running until it has written this many heap snapshots
   * (HANGWATCH_SNAPSHOT_AT_MS), at most `SNAPSHOT_WAIT_MS` longer: on a loaded machine the
   * program starts late and a snapshot takes seconds, and a run cut short would compare nothing.
   */
  awaitHeapSnapshots?: number;
  /** Extra environment for the program (HANGWATCH_* settings). */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the command in its own process group (default true), so that stopping it reaches the
   * processes a wrapper started. False keeps it in the terminal's foreground group: Ctrl-C and
   * terminal input reach it directly (what `hangwatch run` wants for interactive programs).
   */
  detached?: boolean;
  /** stdio of the program; default inherit. */
  stdio?: StdioOptions;
  /** Called about once per interval. */
  onProgress?: (p: { elapsedMs: number; samples: number; pid: number | undefined }) => void;
  /** Called once the program is running, with a function that stops it early (as the duration would) and its pid. */
  onStart?: (stop: () => void, pid: number) => void;
  /**
   * Signals sent to hangwatch that are passed on to the program (its process group when `detached`)
   * while it runs, default SIGTERM and SIGHUP: hangwatch then waits for it to exit, removes its
   * temporary files and lets the caller exit, and never leaves the program running on its own.
   */
  forwardSignals?: readonly NodeJS.Signals[];
}

export interface SupervisedRun {
  command: string[];
  startedAt: string;
  durationMs: number;
  /** Exit code of the command, or undefined when it died of a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** True when the run was ended by its duration or by `stop()` (not by the program itself). */
  stoppedByHangwatch: boolean;
  /** The first of `forwardSignals` hangwatch received (and passed on to the program) during the run. */
  forwardedSignal?: NodeJS.Signals;
  /** The preloaded process the samples come from (the first Node process of the command). */
  pid: number | undefined;
  /** Every preloaded process that reported, with its command line. */
  processes: { pid: number; ppid: number; argv: string[] }[];
  /** In-process samples of `pid`, with `t` in ms since the run started. */
  samples: IntervalSample[];
  /** Samples of `pid` taken from outside the program (see `externalSource`). */
  external: ExternalSample[];
  /** Where `external` comes from: /proc (Linux) or pidusage (elsewhere); absent when nothing could be read. */
  externalSource?: ProcessUsageSource;
  blocks: BlockEvent[];
  /** Heap snapshots `pid` wrote on request (HANGWATCH_SNAPSHOT_AT_MS), oldest first. */
  heapSnapshots: string[];
  /** Synchronous I/O of `pid` after start-up by call site, when it ran with HANGWATCH_SYNC_IO=1. */
  syncIo?: SyncIoReport;
  /** The times hangwatch itself held `pid`'s event loop (heap snapshots, profiler, reports), oldest first. */
  hangwatchPauses: HangwatchPause[];
  /** Why block stacks were not captured, when they were not. */
  blockStacksError?: string;
  /** Report files the preload wrote (all processes). */
  reportFiles: string[];
  /** Channel lines that could not be read. */
  malformedRecords: number;
}

const GRACE_MS = 3000;
const DEFAULT_FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
/** How much longer than `durationMs` a run waits for the heap snapshots it asked for. */
const SNAPSHOT_WAIT_MS = 60_000;

function killGroup(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Run the command under the preload until it exits (or `durationMs` passes), collecting
 * samples and block events. Rejects with `ChildStartError` when the command cannot be started.
 */
export function superviseRun(options: SupervisedRunOptions): Promise<SupervisedRun> {
  const outsideReader = createProcessUsageReader(); // before anything to clean up: a bad HANGWATCH_PROCESS_SAMPLER throws
  let outside: ProcessUsageReader | undefined = outsideReader;
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-run-'));
  const channelPath = join(dir, 'channel.ndjson');
  const reader = new ChannelReader(channelPath);
  let reading = false;
  const started = performance.now();
  const startedAt = new Date().toISOString();

  const hellos: HelloRecord[] = [];
  const byPid = new Map<
    number,
    { samples: IntervalSample[]; blocks: BlockEvent[]; snapshots: string[]; pauses: SelfPause[]; syncIo?: SyncIoReport }
  >();
  const reportFiles: string[] = [];
  const external: ExternalSample[] = [];
  let target: HelloRecord | undefined;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    ...environmentWithPreload(options.env?.NODE_OPTIONS ?? process.env.NODE_OPTIONS),
    [CHANNEL_ENV]: channelPath,
    HANGWATCH_SAMPLE_MS: String(options.intervalMs),
  };

  const group = options.detached ?? true;
  return new Promise<SupervisedRun>((resolvePromise, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(options.command, options.args, { env, stdio: options.stdio ?? 'inherit', detached: group });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      reject(
        new ChildStartError(`hangwatch: cannot start ${options.command}: ${(error as Error).message}`, {
          cause: error,
        }),
      );
      return;
    }
    const childPid = child.pid;
    let forwardedSignal: NodeJS.Signals | undefined;
    const forward = (signal: NodeJS.Signals): void => {
      forwardedSignal ??= signal;
      if (childPid !== undefined) killGroup(childPid, signal, group);
    };
    const forwarded = options.forwardSignals ?? DEFAULT_FORWARDED_SIGNALS;
    for (const signal of forwarded) process.on(signal, forward);
    const stopForwarding = (): void => {
      for (const signal of forwarded) process.off(signal, forward);
    };
    let closed = false;
    let stopping = false;
    let stoppedByHangwatch = false;
    const timers: NodeJS.Timeout[] = [];

    const consume = (records: ChannelRecord[]): void => {
      for (const record of records) {
        let entry = byPid.get(record.pid);
        if (!entry) {
          entry = { samples: [], blocks: [], snapshots: [], pauses: [] };
          byPid.set(record.pid, entry);
        }
        if (record.type === 'hello') {
          hellos.push(record);
          // The command's own process, else the first Node process it started.
          if (!target || record.pid === childPid) target = record;
        } else if (record.type === 'sample') entry.samples.push(record.sample);
        else if (record.type === 'block') entry.blocks.push(record.event);
        else if (record.type === 'exit') reportFiles.push(...record.reportFiles);
        else if (record.type === 'heap-snapshot') entry.snapshots.push(record.path);
        else if (record.type === 'sync-io') entry.syncIo = record.report;
        else if (record.type === 'self-pause') entry.pauses.push(record.pause);
      }
    };

    const tick = (): void => {
      consume(reader.readNew());
      const now = performance.now() - started;
      // One reading at a time: a pidusage reading runs `ps`, which may outlast a short interval.
      if (target && outside && !reading) {
        reading = true;
        outside.read(target.pid).then(
          (r) => {
            reading = false;
            // No resident memory: the program has exited and is not reaped yet (a zombie) — no sample.
            if (!closed && r.rssBytes > 0) external.push({ t: now, cpuPercent: r.cpuPercent, rssBytes: r.rssBytes });
          },
          (error: unknown) => {
            reading = false;
            // No way to read another process here: stop trying. Otherwise it exited between two ticks.
            if (error instanceof ProcessSamplingUnsupportedError) outside = undefined;
          },
        );
      }
      options.onProgress?.({
        elapsedMs: now,
        samples: target ? (byPid.get(target.pid)?.samples.length ?? 0) : 0,
        pid: target?.pid,
      });
    };

    const stop = (): void => {
      if (stopping || childPid === undefined) return;
      stopping = true;
      stoppedByHangwatch = true;
      killGroup(childPid, 'SIGINT', group);
      timers.push(setTimeout(() => killGroup(childPid, 'SIGTERM', group), GRACE_MS).unref());
      timers.push(setTimeout(() => killGroup(childPid, 'SIGKILL', group), 2 * GRACE_MS).unref());
    };

    const poll = setInterval(tick, options.intervalMs);
    const snapshotsWanted = options.awaitHeapSnapshots ?? 0;
    const stopWhenSnapshotsAreIn = (giveUpAt: number): void => {
      consume(reader.readNew());
      const written = target ? (byPid.get(target.pid)?.snapshots.length ?? 0) : 0;
      if (written >= snapshotsWanted || performance.now() >= giveUpAt || closed) stop();
      else timers.push(setTimeout(() => stopWhenSnapshotsAreIn(giveUpAt), Math.min(200, options.intervalMs)));
    };
    if (options.durationMs !== undefined) {
      timers.push(setTimeout(() => stopWhenSnapshotsAreIn(performance.now() + SNAPSHOT_WAIT_MS), options.durationMs));
    }

    child.once('error', (error) => {
      stopForwarding();
      clearInterval(poll);
      for (const t of timers) clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      reject(new ChildStartError(`hangwatch: cannot start ${options.command}: ${error.message}`, { cause: error }));
    });

    child.once('spawn', () => options.onStart?.(stop, childPid as number));

    child.once('close', (code, signal) => {
      stopForwarding();
      closed = true;
      clearInterval(poll);
      for (const t of timers) clearTimeout(t);
      // Grandchildren of a wrapper may outlive it: end the group (only when it is ours alone).
      if (childPid !== undefined && group) killGroup(childPid, 'SIGKILL', true);
      consume(reader.readNew());
      rmSync(dir, { recursive: true, force: true });
      const chosen = target ? byPid.get(target.pid) : undefined;
      // Samples count time from the program's sampler start; rebase them on the run's start.
      const offset = target ? target.samplerEpochMs - Date.parse(startedAt) : 0;
      const run: SupervisedRun = {
        command: [options.command, ...options.args],
        startedAt,
        durationMs: performance.now() - started,
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        stoppedByHangwatch,
        ...(forwardedSignal ? { forwardedSignal } : {}),
        pid: target?.pid,
        processes: hellos.map((h) => ({ pid: h.pid, ppid: h.ppid, argv: h.argv })),
        samples: (chosen?.samples ?? []).map((s) => ({ ...s, t: s.t + Math.max(0, offset) })),
        external,
        ...(external.length ? { externalSource: outsideReader.source } : {}),
        blocks: chosen?.blocks ?? [],
        heapSnapshots: chosen?.snapshots ?? [],
        ...(chosen?.syncIo ? { syncIo: chosen.syncIo } : {}),
        hangwatchPauses: (chosen?.pauses ?? []).map((p) => ({
          reason: p.reason,
          atMs: Math.max(0, p.startedAtMs - Date.parse(startedAt)),
          durationMs: p.durationMs,
        })),
        reportFiles,
        malformedRecords: reader.malformed,
      };
      if (target && !target.features.blockStacks && target.features.blockStacksError)
        run.blockStacksError = target.features.blockStacksError;
      resolvePromise(run);
    });
  });
}
