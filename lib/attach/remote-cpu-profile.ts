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

export async function recordRemoteCpuProfile(channel: CdpChannel, options: RemoteCpuProfileOptions): Promise<RemoteCpuProfile> {
  try {
    await channel.send('Profiler.enable', {});
    await channel.send('Profiler.setSamplingInterval', { interval: options.intervalUs });
    const startEpochMs = Date.now();
    await channel.send('Profiler.start', {});
    const truncated = await waitOrAbort(options.durationMs, options.signal);
    const { profile } = (await channel.send('Profiler.stop', {})) as { profile: RawCpuProfile };
    return { profile, startEpochMs, truncated };
  } finally {
    await channel.sendQuietly('Profiler.disable', {}, 2000);
  }
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
