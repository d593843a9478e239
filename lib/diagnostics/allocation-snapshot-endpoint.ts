/** `GET …/allocation-snapshot?seconds=N&format=json|pprof`: what was allocated and is still live after N seconds. */
import type { ServerResponse } from 'node:http';
import {
  isTrackingAllocations,
  startAllocationTracking,
  stopAllocationTracking,
  takeAllocationSnapshot,
} from '../alloc/tracking.js';
import { type CaptureLimits, captureFormat, captureSeconds } from './capture-query.js';
import { fileStamp, sendBuffer, waitWhileConnected } from './http-answers.js';

export async function serveAllocationSnapshot(url: URL, res: ServerResponse, limits: CaptureLimits): Promise<void> {
  const seconds = captureSeconds(url, limits);
  const format = captureFormat(url, ['json', 'pprof']);
  // Tracking someone else started is only read, never stopped.
  const ours = !isTrackingAllocations();
  if (ours) startAllocationTracking({ peakPollIntervalMs: 0 });
  let snapshot: ReturnType<typeof takeAllocationSnapshot>;
  try {
    const connected = await waitWhileConnected(res, seconds * 1000);
    if (!connected) return;
    snapshot = takeAllocationSnapshot();
  } finally {
    if (ours) stopAllocationTracking();
  }
  if (format === 'pprof') sendBuffer(res, snapshot.toPprof(), 'application/octet-stream', `alloc-${fileStamp()}.pb.gz`);
  else sendBuffer(res, JSON.stringify(snapshot.toJSON()), 'application/json', `alloc-${fileStamp()}.json`);
}
