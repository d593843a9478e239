/**
 * A CPU profile of another process's thread, recorded over its inspector for a fixed duration:
 * `Profiler.setSamplingInterval`, `start`, and `stop` after the duration (or as soon as `signal`
 * aborts: Ctrl-C of hangwatch ends the recording early and keeps what was recorded).
 */
import type { RawCpuProfile } from '../capture/profile-format.js';
import type { CdpChannel } from './cdp-channel.js';

export interface RemoteCpuProfileOptions {
  durationMs: number;
  /** Sampling interval in microseconds. */
  intervalUs: number;
  signal?: AbortSignal;
}

export interface RemoteCpuProfile {
  profile: RawCpuProfile;
  /** Wall-clock start of the recording, ms since the epoch. */
  startEpochMs: number;
  /** Ended before the duration (interrupted). */
  truncated: boolean;
}

export async function recordRemoteCpuProfile(
  channel: CdpChannel,
  options: RemoteCpuProfileOptions,
): Promise<RemoteCpuProfile> {
  try {
    await channel.send('Profiler.enable', {});
    await channel.send('Profiler.setSamplingInterval', { interval: options.intervalUs });
    const startEpochMs = Date.now();
    await channel.send('Profiler.start', {});
    await recompileUnderProfiler(channel);
    const truncated = await waitOrAbort(options.durationMs, options.signal);
    const { profile } = (await channel.send('Profiler.stop', {})) as { profile: RawCpuProfile };
    return { profile, startEpochMs, truncated };
  } finally {
    await channel.sendQuietly('Profiler.disable', {}, 2000);
  }
}

/**
 * From Node 22 (V8 12), samples in code that V8 optimized before the profiler started are not
 * attributed to their function but to the nearest caller it knows (a hot function run by a timer
 * shows up as `listOnTimeout`). Switching precise coverage on and off makes V8 discard its
 * optimized code, so it is compiled again — and known to the profiler. The cost to the target is
 * one re-warm-up of its hot code. Skipped on Node 20, which attributes correctly, and when the
 * target collects coverage itself (NODE_V8_COVERAGE), whose mode this would reset.
 */
async function recompileUnderProfiler(channel: CdpChannel): Promise<void> {
  const answer = await channel.send('Runtime.evaluate', {
    expression:
      "JSON.stringify({ major: Number(process.versions.node.split('.')[0]), coverage: Boolean(process.env.NODE_V8_COVERAGE) })",
    returnByValue: true,
    silent: true,
  });
  let target: { major?: number; coverage?: boolean } = {};
  try {
    target = JSON.parse(String(answer?.result?.value ?? '{}'));
  } catch {
    return;
  }
  if ((target.major ?? 0) < 22 || target.coverage) return;
  await channel.send('Profiler.startPreciseCoverage', { callCount: false, detailed: false });
  await channel.send('Profiler.stopPreciseCoverage', {});
}

/** Resolves true when `signal` aborted before `ms` passed. */
function waitOrAbort(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(true);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
