/** `GET …/cpu-profile?seconds=N&format=cpuprofile|pprof`: a CPU profile of the next N seconds. */
import type { ServerResponse } from 'node:http';
import { startCpuProfile } from '../cpu/session.js';
import { type CaptureLimits, captureFormat, captureSeconds } from './capture-query.js';
import { fileStamp, sendBuffer, waitWhileConnected } from './http-answers.js';

export async function serveCpuProfile(url: URL, res: ServerResponse, limits: CaptureLimits): Promise<void> {
  const seconds = captureSeconds(url, limits);
  const format = captureFormat(url, ['cpuprofile', 'pprof']);
  const session = await startCpuProfile({ maxDurationMs: Math.ceil(seconds * 1000) + 1000 });
  const connected = await waitWhileConnected(res, seconds * 1000);
  const profile = await session.stop();
  if (!connected) return;
  if (format === 'pprof') sendBuffer(res, profile.toPprof(), 'application/octet-stream', `cpu-${fileStamp()}.pb.gz`);
  else sendBuffer(res, JSON.stringify(profile.toJSON()), 'application/json', `cpu-${fileStamp()}.cpuprofile`);
}
