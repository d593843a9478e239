/**
 * Zero-code preload: `node --import hangwatch/register app.js` (or `--require hangwatch/register`).
 * Configured by HANGWATCH_* environment variables (see lib/process/preload-config.ts and
 * docs/cli.md). In a worker thread it starts that thread's block monitor and hang watchdog only
 * (see startWorkerPreload). It starts, in the main thread:
 *  - the event-loop block monitor (`monitorEventLoop`), whose block events with stacks go to
 *    stderr and report files — see `startBlockMonitor` below;
 *  - the GC monitor (`monitorGc`) for leak suspicions (HANGWATCH_GC);
 *  - the process-wide hang watchdog (`watchEventLoop`, HANGWATCH_HANG_MS / HANGWATCH_HANG_ACTION),
 *    which reports a loop stuck for seconds while it is still stuck, and can end the process;
 *  - when `hangwatch run`/`doctor` started the program, or when the block monitor is unavailable,
 *    a resource sampler (CPU, memory, handles, event-loop delay/utilization, GC pauses per
 *    interval), which reports blocks without stacks when the block monitor is unavailable and
 *    feeds `hangwatch run`/`doctor` through HANGWATCH_CHANNEL when set.
 * Nothing here may throw into the program or keep it alive.
 */
import { isMainThread } from 'node:worker_threads';
import { onSelfPause } from './capture/self-pause.js';
import { monitorGc } from './gc/monitor.js';
import { writeHeapSnapshot } from './heap/write-heap-snapshot.js';
import { watchEventLoop, type LoopWatchdog } from './hang/index.js';
import { monitorEventLoop, type BlockEvent, type LoopMonitor } from './loop/index.js';
import type { HangReport } from './report/hang-report.js';
import { ChannelWriter } from './process/doctor-channel.js';
import { startLiveHeapProbe, type LiveHeapProbe } from './process/live-heap-probe.js';
import { startIntervalSampler, type IntervalSampler } from './process/interval-sampler.js';
import { readPreloadConfig, type PreloadConfig } from './process/preload-config.js';
import { PreloadReporter } from './process/preload-reporter.js';
import { traceSyncIo, type SyncIoTracer } from './sync-io/trace-sync-io.js';
import { installStartupCycleHint } from './cycles/startup-cycle-hint.js';

const STARTED = Symbol.for('hangwatch.preload.started');

/**
 * The one call into the block monitor. Returns the monitor, or the reason it could not start
 * (the preload then reports blocks from the delay histogram, without stacks).
 */
function startBlockMonitor(config: PreloadConfig, onBlock: (event: BlockEvent) => void): LoopMonitor | string {
  try {
    return monitorEventLoop({ thresholdMs: config.blockThresholdMs, captureStacks: config.captureStacks, onBlock });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The GC monitor: a suspected leak (heap after major GCs growing) becomes a report. */
function startGcMonitor(config: PreloadConfig, reporter: PreloadReporter): { stop(): void } | undefined {
  if (!config.gcMonitor) return undefined;
  try {
    return monitorGc({ onLeakSuspected: (s) => reporter.leakSuspicion(s) });
  } catch (error) {
    reporter.warn(`GC monitor did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The process-wide hang watchdog (faulthandler.dump_traceback_later): a loop stuck for
 * HANGWATCH_HANG_MS is reported while it is stuck, and the process ends if HANGWATCH_HANG_ACTION=exit.
 */
function startHangWatchdog(config: PreloadConfig, reporter: PreloadReporter): LoopWatchdog | undefined {
  if (config.hangTimeoutMs === 0) return undefined;
  try {
    return watchEventLoop({
      timeoutMs: config.hangTimeoutMs,
      action: config.hangAction,
      exitCode: config.hangExitCode,
      output: (text, report) => reporter.hang(report as HangReport, text),
    });
  } catch (error) {
    reporter.warn(`hang watchdog did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/** HANGWATCH_SYNC_IO=1: synchronous I/O after start-up, by call site, reported when the program ends. */
function startSyncIoTracing(config: PreloadConfig, reporter: PreloadReporter): SyncIoTracer | undefined {
  if (!config.syncIo) return undefined;
  try {
    return traceSyncIo();
  } catch (error) {
    reporter.warn(`sync I/O tracing did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The live-heap probe `hangwatch doctor` asks for (HANGWATCH_LIVE_HEAP_MS: one full collection
 * every so many ms, its reading added to the next sample).
 */
function startProbe(
  env: NodeJS.ProcessEnv,
  reporter: PreloadReporter,
  channel: ChannelWriter | undefined,
): LiveHeapProbe | undefined {
  const raw = env.HANGWATCH_LIVE_HEAP_MS;
  if (!raw || !channel) return undefined;
  const everyMs = Number(raw);
  if (!Number.isFinite(everyMs) || everyMs < 50) {
    reporter.warn(`HANGWATCH_LIVE_HEAP_MS: ${JSON.stringify(raw)} is not a time of at least 50 ms; ignored`);
    return undefined;
  }
  try {
    return startLiveHeapProbe(everyMs, (error) => reporter.warn(`live-heap probe stopped: ${error.message}`));
  } catch (error) {
    reporter.warn(`live-heap probe did not start: ${(error as Error).message}`);
    return undefined;
  }
}

function startSampler(
  config: PreloadConfig,
  reporter: PreloadReporter,
  channel: ChannelWriter | undefined,
  blockStacksError: string | undefined,
  probe: LiveHeapProbe | undefined,
): IntervalSampler | undefined {
  try {
    return startIntervalSampler({
      intervalMs: config.sampleIntervalMs,
      onSample(sample) {
        const live = probe?.take();
        channel?.write({
          type: 'sample',
          pid: process.pid,
          sample: live === undefined ? sample : { ...sample, liveHeapBytes: live },
        });
        if (blockStacksError !== undefined && sample.loopDelay.maxMs >= config.blockThresholdMs) {
          reporter.delay({
            schema: 'hangwatch.loop-delay',
            schemaVersion: 1,
            observedAt: new Date().toISOString(),
            maxDelayMs: sample.loopDelay.maxMs,
            intervalMs: sample.intervalMs,
            reason: `block monitor unavailable (${blockStacksError})`,
          });
        }
      },
    });
  } catch (error) {
    reporter.warn(`resource sampler did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Heap snapshots at the times `hangwatch doctor --heap-snapshots` asks for (HANGWATCH_SNAPSHOT_AT_MS,
 * ms after start, into HANGWATCH_SNAPSHOT_DIR); each path goes to the channel. Timers are unref'd.
 */
function scheduleHeapSnapshots(
  env: NodeJS.ProcessEnv,
  reporter: PreloadReporter,
  channel: ChannelWriter | undefined,
): void {
  const dir = env.HANGWATCH_SNAPSHOT_DIR;
  const at = env.HANGWATCH_SNAPSHOT_AT_MS;
  if (!dir || !at || !channel) return;
  for (const raw of at.split(',')) {
    const ms = Number(raw);
    if (!Number.isFinite(ms) || ms < 0) {
      reporter.warn(`HANGWATCH_SNAPSHOT_AT_MS: ${JSON.stringify(raw)} is not a time in ms; ignored`);
      continue;
    }
    setTimeout(() => {
      writeHeapSnapshot({ dir }).then(
        (path) => channel.write({ type: 'heap-snapshot', pid: process.pid, path, takenAt: new Date().toISOString() }),
        (error: unknown) => reporter.warn(`heap snapshot failed: ${(error as Error).message}`),
      );
    }, ms).unref();
  }
}

function startPreload(): void {
  const { config, warnings } = readPreloadConfig(process.env);
  const reporter = new PreloadReporter(config);
  for (const warning of warnings) reporter.warn(warning);

  let channel: ChannelWriter | undefined;
  if (config.channelPath) {
    try {
      channel = new ChannelWriter(config.channelPath);
    } catch (error) {
      reporter.warn(`cannot open HANGWATCH_CHANNEL ${config.channelPath}: ${(error as Error).message}`);
    }
  }

  const monitor = startBlockMonitor(config, (event) => {
    reporter.block(event);
    channel?.write({ type: 'block', pid: process.pid, event });
  });
  const blockStacksError = typeof monitor === 'string' ? monitor : undefined;
  const stopPauseRecords = channel
    ? onSelfPause((pause) => channel.write({ type: 'self-pause', pid: process.pid, pause }))
    : undefined;
  const gcMonitor = startGcMonitor(config, reporter);
  scheduleHeapSnapshots(process.env, reporter, channel);
  const hangWatchdog = startHangWatchdog(config, reporter);
  const syncIo = startSyncIoTracing(config, reporter);
  try {
    installStartupCycleHint(process.argv[1]);
  } catch (error) {
    reporter.warn(`import-cycle hint did not start: ${(error as Error).message}`);
  }

  const samplerEpochMs = Date.now();
  // Standalone, the block monitor is all the preload needs; the sampler (a 20 ms probe timer)
  // runs only to feed `hangwatch run`/`doctor`, or to report blocks when the monitor is unavailable.
  const probe = startProbe(process.env, reporter, channel);
  const sampler =
    channel !== undefined || blockStacksError !== undefined
      ? startSampler(config, reporter, channel, blockStacksError, probe)
      : undefined;

  channel?.write({
    type: 'hello',
    pid: process.pid,
    ppid: process.ppid,
    argv: process.argv.slice(),
    nodeVersion: process.version,
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    intervalMs: config.sampleIntervalMs,
    samplerEpochMs,
    features: blockStacksError === undefined ? { blockStacks: true } : { blockStacks: false, blockStacksError },
  });

  let finished = false;
  const finish = (exitCode: number): void => {
    if (finished) return;
    finished = true;
    try {
      // The run's last live-heap reading goes into the sampler's last sample.
      probe?.probeNow();
      sampler?.stop();
      probe?.stop();
      if (typeof monitor !== 'string') monitor.stop();
      gcMonitor?.stop();
      hangWatchdog?.stop();
      stopPauseRecords?.();
    } catch {
      // stopping must not change how the program exits
    }
    if (syncIo) {
      try {
        const report = syncIo.report();
        syncIo.stop();
        reporter.syncIo(report);
        channel?.write({ type: 'sync-io', pid: process.pid, report });
      } catch (error) {
        reporter.warn(`sync I/O report failed: ${(error as Error).message}`);
      }
    }
    channel?.write({ type: 'exit', pid: process.pid, exitCode, reportFiles: reporter.files });
    channel?.close();
  };
  process.once('exit', finish);
  if (channel) flushOnSignals(finish);
}

/**
 * Under `hangwatch run`/`doctor` the program is ended by a signal; Node runs no 'exit' listener
 * then, so the last samples would be lost. Flush on SIGINT/SIGTERM, then, when the program has
 * no handler of its own, die of the signal as it would have without us.
 */
function flushOnSignals(finish: (exitCode: number) => void): void {
  const codes = { SIGINT: 130, SIGTERM: 143 } as const;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      finish(codes[signal]);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * In a worker thread (the preload runs in each: workers inherit `--import` and NODE_OPTIONS): the
 * block monitor and the hang watchdog of that thread, whose reports go to stderr and report files
 * with the thread's id and name. The stacks are captured by the process's one watchdog, which the
 * main thread's preload runs. The hang watchdog only reports here: ending the process because one
 * worker is stuck is the main thread's call, and `process.exit()` in a worker ends only the worker.
 * Nothing goes to `hangwatch run`/`doctor`'s channel from a worker yet.
 */
function startWorkerPreload(): void {
  const { config } = readPreloadConfig(process.env);
  // Warnings about the configuration were printed by the main thread.
  if (!config.workerThreads) return;
  const reporter = new PreloadReporter(config);
  startBlockMonitor(config, (event) => reporter.block(event));
  startHangWatchdog({ ...config, hangAction: 'report' }, reporter);
}

const globalState = globalThis as { [STARTED]?: boolean };
if (!globalState[STARTED]) {
  globalState[STARTED] = true;
  try {
    if (isMainThread) startPreload();
    else startWorkerPreload();
  } catch (error) {
    try {
      process.stderr.write(`hangwatch: preload disabled: ${(error as Error).message}\n`);
    } catch {
      // nothing left to tell
    }
  }
}
