/** Text rendering of a SyncIoReport: the call sites that block the main thread with synchronous I/O, costliest first. */
import { formatMs } from './format-units.js';
import type { SyncIoReport, SyncIoSite } from './sync-io-report.js';
import { requiredArray, requiredObject } from '../validate.js';

export function renderSyncIoText(report: SyncIoReport, maxSites = 10): string {
  requiredArray(
    'report.sites',
    requiredObject<SyncIoReport>('report', report, 'a synchronous I/O report').sites,
    'an array of call sites',
  );
  if (report.sites.length === 0) return 'hangwatch: no synchronous I/O on the main thread after start-up\n';
  const total = report.sites.length + (report.sitesOmitted ?? 0);
  const out = [
    `hangwatch: synchronous I/O on the main thread after start-up: ${report.totalCalls} call${report.totalCalls === 1 ? '' : 's'}, ` +
      `${formatMs(report.totalMs)} in total, from ${total} call site${total === 1 ? '' : 's'} (costliest first):`,
  ];
  for (const s of report.sites.slice(0, maxSites)) out.push(...syncIoSiteLines(s, '  '));
  if (total > maxSites) out.push(`  … and ${total - maxSites} more call sites`);
  return `${out.join('\n')}\n`;
}

/** One call site as text lines: the call, count and time, the caller's source line, the application frame that led to it. */
export function syncIoSiteLines(s: SyncIoSite, indent: string): string[] {
  const c = s.caller;
  const lines = [
    `${indent}${s.call} ×${s.count}, ${formatMs(s.totalMs)} total (max ${formatMs(s.maxMs)}) in ${c.functionName} (${c.file}:${c.line})`,
  ];
  if (c.sourceLine) lines.push(`${indent}    ${c.sourceLine}`);
  if (s.via) lines.push(`${indent}  called from ${s.via.functionName} (${s.via.file}:${s.via.line})`);
  return lines;
}
