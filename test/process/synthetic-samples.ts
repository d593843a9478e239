// Builders of synthetic interval series for the diagnosis tests.
import type { IntervalSample } from '../../lib/process/interval-sampler.js';
import type { BlockEvent } from '../../lib/loop/index.js';

export function sample(i: number, over: Partial<IntervalSample> = {}, intervalMs = 250): IntervalSample {
  return {
    t: (i + 1) * intervalMs,
    intervalMs,
    cpuPercent: 20,
    rssBytes: 80e6,
    heapUsedBytes: 20e6 + (i % 3) * 2e6, // an ordinary sawtooth
    heapTotalBytes: 40e6,
    externalBytes: 1e6,
    activeHandles: 12,
    pendingOperations: 1,
    handlesByType: { TCPServerWrap: 1, TCPSocketWrap: 10, Timeout: 1 },
    loopDelay: { minMs: 0.1, meanMs: 0.8, p50Ms: 0.5, p99Ms: 4, maxMs: 6 },
    loopUtilization: 0.3,
    gc: { count: 2, majorCount: 0, pauseMs: 1.5, maxPauseMs: 1 },
    ...over,
  };
}

export function series(
  n: number,
  over: (i: number) => Partial<IntervalSample> = () => ({}),
  intervalMs = 250,
): IntervalSample[] {
  return Array.from({ length: n }, (_, i) => sample(i, over(i), intervalMs));
}

export const delay = (maxMs: number) => ({
  minMs: 0.1,
  meanMs: maxMs / 4,
  p50Ms: maxMs / 8,
  p99Ms: maxMs * 0.9,
  maxMs,
});

/** A block event with the fields a test does not care about filled in (a 100 ms threshold, blocked). */
export function blockEvent(over: Partial<BlockEvent> & Pick<BlockEvent, 'id' | 'durationMs'>): BlockEvent {
  return {
    schema: 'hangwatch.block-event',
    schemaVersion: 1,
    startedAt: new Date(0).toISOString(),
    thresholdMs: 100,
    pid: 1,
    threadId: 0,
    cause: 'blocked',
    samples: [],
    hotFrames: [],
    ...over,
  };
}
