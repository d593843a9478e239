/**
 * The synchronous-I/O rule: fs / child_process / zlib / crypto calls of the main thread after
 * start-up (`traceSyncIo`, which the doctor turns on): while one runs, no request, timer or I/O
 * callback is served. Start-up (module evaluation) and hangwatch's own calls are not in the
 * report; a few cheap calls (a config re-read) are not a finding.
 */
import { InvalidOptionError } from '../../errors.js';
import type { DiagnosisThresholds, Evidence, Finding, SyncIoSummary } from '../../report/diagnosis.js';
import { formatMs, formatPercent } from '../../report/format-units.js';
import type { SyncIoReport, SyncIoSite } from '../../report/sync-io-report.js';
import { requiredArray, requiredNumber, requiredObject } from '../../validate.js';
import { max } from './series.js';

/** Synchronous I/O call sites kept in a diagnosis (the costliest first). */
const TOP_SYNC_IO_SITES = 10;

/** The `syncIo` option of `diagnose()`, checked, as the diagnosis keeps it. */
export function summarizeSyncIo(value: unknown): SyncIoSummary {
  const report = requiredObject<SyncIoReport>('syncIo', value, 'a synchronous I/O report (traceSyncIo().report())');
  const sites = requiredArray<SyncIoSite>('syncIo.sites', report.sites, 'an array of call sites');
  sites.forEach((site, i) => {
    const s = requiredObject<SyncIoSite>(`syncIo.sites[${i}]`, site, 'a call site');
    requiredObject(`syncIo.sites[${i}].caller`, s.caller, 'a stack frame');
    if (typeof s.totalMs !== 'number')
      throw new InvalidOptionError(`syncIo.sites[${i}].totalMs`, 'a number of ms', s.totalMs);
  });
  return {
    totalCalls: requiredNumber('syncIo.totalCalls', report.totalCalls, { min: 0 }),
    totalMs: requiredNumber('syncIo.totalMs', report.totalMs, { min: 0 }),
    sites: [...sites].sort((a, b) => b.totalMs - a.totalMs).slice(0, TOP_SYNC_IO_SITES),
    sitesOmitted: Math.max(0, sites.length - TOP_SYNC_IO_SITES) + (report.sitesOmitted ?? 0),
  };
}

const siteWhere = (s: SyncIoSite): string => `${s.caller.functionName} (${s.caller.file}:${s.caller.line})`;

export function findSyncIo(
  io: SyncIoSummary | undefined,
  durationMs: number,
  th: DiagnosisThresholds,
): Finding | undefined {
  if (!io || io.totalCalls === 0 || (io.totalCalls < th.syncIoMinCalls && io.totalMs < th.syncIoMinMs))
    return undefined;
  const top = io.sites[0];
  const siteCount = io.sites.length + io.sitesOmitted;
  const share = durationMs > 0 ? io.totalMs / durationMs : 0;
  const longest = max(io.sites.map((s) => s.maxMs));
  const evidence: Evidence[] = [
    { label: 'calls after start-up', value: `${io.totalCalls} from ${siteCount} call site(s)` },
    {
      label: 'time inside them',
      value: `${formatMs(io.totalMs)}${durationMs > 0 ? ` (${formatPercent(share)} of the run)` : ''}`,
    },
    { label: 'longest call', value: formatMs(longest) },
  ];
  if (top)
    evidence.push({
      label: 'costliest call site',
      value: `${top.call} ×${top.count}, ${formatMs(top.totalMs)} in ${siteWhere(top)}${top.via ? `, called from ${siteWhere({ ...top, caller: top.via })}` : ''}`,
    });
  return {
    kind: 'sync-io',
    severity: share >= th.gcMinShare || longest >= th.blockSevereMs ? 'critical' : 'warning',
    title: 'Synchronous I/O after start-up',
    summary:
      `After start-up the main thread made ${io.totalCalls} synchronous I/O call(s) (${formatMs(io.totalMs)} in all) from ${siteCount} call site(s); ` +
      'while each one runs, no request, timer or I/O callback is served, and under load every request waits for them.' +
      (top ? ` Most of the time: ${top.call} in ${siteWhere(top)}.` : ''),
    evidence,
    ranges: [],
    nextStep: top
      ? `Start with ${top.call} in ${siteWhere(top)}: do it once at start-up and keep the result, or use the asynchronous API (fs.promises, child_process.execFile/spawn, zlib.gzip, crypto.pbkdf2/scrypt); the call sites below are the costliest first.`
      : 'Rerun the doctor to list the call sites.',
    syncIoSites: io.sites,
  };
}
