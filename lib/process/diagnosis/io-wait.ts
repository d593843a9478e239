/** The I/O-wait rule: a process mostly idle while many operations are in flight. */
import type { DiagnosisThresholds, Finding } from '../../report/diagnosis.js';
import { formatPercent } from '../../report/format-units.js';
import type { IntervalSample } from '../interval-sampler.js';
import { blockedIntervals } from './blocking.js';
import { describeRanges, mean, rangesWhere } from './series.js';

export function findIoWait(samples: IntervalSample[], th: DiagnosisThresholds): Finding | undefined {
  const blockedSet = blockedIntervals(samples, th.blockDelayMs);
  const waiting = (s: IntervalSample): boolean =>
    s.cpuPercent < th.ioMaxCpuPercent &&
    s.loopUtilization < th.ioMaxUtilization &&
    s.pendingOperations >= th.ioMinPendingOperations &&
    !blockedSet.has(s);
  const hits = samples.filter(waiting);
  // Most of the run, not a moment of it.
  if (samples.length === 0 || hits.length < Math.max(2, samples.length * 0.5)) return undefined;
  const types: Record<string, number> = {};
  for (const s of hits)
    for (const [type, n] of Object.entries(s.handlesByType)) types[type] = (types[type] ?? 0) + n / hits.length;
  const topTypes = Object.entries(types)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([type, n]) => `${type} ×${n.toFixed(0)}`)
    .join(', ');
  const ranges = rangesWhere(samples, waiting);
  return {
    kind: 'io-wait',
    severity: 'warning',
    title: 'Waiting on I/O',
    summary:
      `The process was mostly idle (CPU ${mean(hits.map((s) => s.cpuPercent)).toFixed(0)}%, event loop busy ${formatPercent(mean(hits.map((s) => s.loopUtilization)))}) ` +
      `while ${mean(hits.map((s) => s.pendingOperations)).toFixed(0)} operations were in flight on average: its time goes to waiting on something slow outside it.`,
    evidence: [
      { label: 'intervals waiting', value: `${hits.length} of ${samples.length}` },
      { label: 'CPU (mean, waiting intervals)', value: `${mean(hits.map((s) => s.cpuPercent)).toFixed(1)}%` },
      { label: 'event-loop utilization (mean)', value: formatPercent(mean(hits.map((s) => s.loopUtilization))) },
      { label: 'operations in flight (mean)', value: mean(hits.map((s) => s.pendingOperations)).toFixed(1) },
      { label: 'active handles by type (mean)', value: topTypes || 'none' },
      { label: 'when', value: describeRanges(ranges) },
    ],
    ranges,
    nextStep:
      'Find the slow dependency the operations wait on (database, disk, upstream HTTP, timers): time each call, check connection-pool sizes and concurrency limits, add caching or batching; the handle types above say which kind of I/O it is.',
  };
}
