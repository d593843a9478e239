/**
 * The doctor's HTML report: one self-contained file (inline CSS, inline SVG charts, a few lines
 * of inline script, no external asset — a Content-Security-Policy forbids loading any) with the
 * diagnosis, the series over time, and the block list with stacks. The full report JSON is
 * embedded for tools (`<script type="application/json" id="hangwatch-report">`).
 */
import { formatFrame, isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import type { BlockEvent } from '../loop/index.js';
import { describeSelfPauseReason } from '../capture/self-pause.js';
import type { Diagnosis, Finding, GrowingConstructor } from './diagnosis.js';
import type { SyncIoSite } from './sync-io-report.js';
import { requiredDoctorReport, type DoctorReport } from './doctor-report.js';
import { formatBytes, formatMs } from './format-units.js';
import { escapeHtml, renderLineChart, type ChartPoint } from './render-html-charts.js';

const COLORS = {
  blue: '#3e63dd',
  green: '#30a46c',
  orange: '#f76b15',
  purple: '#8e4ec6',
  red: '#e5484d',
  gray: '#687076',
};

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function framesHtml(frames: StackFrame[], limit = 30): string {
  const rows = frames.slice(0, limit).map((f) => {
    const cls = isNodeInternal(f) ? 'frame internal' : 'frame';
    const src = f.sourceLine ? `<span class="src">${escapeHtml(f.sourceLine)}</span>` : '';
    return `<li class="${cls}"><code>${escapeHtml(formatFrame(f))}</code>${src}</li>`;
  });
  if (frames.length > limit) rows.push(`<li class="frame internal">… ${frames.length - limit} more frames</li>`);
  return `<ol class="stack">${rows.join('')}</ol>`;
}

function findingHtml(f: Finding): string {
  const evidence = f.evidence
    .map((e) => `<tr><th>${escapeHtml(e.label)}</th><td>${escapeHtml(e.value)}</td></tr>`)
    .join('');
  const stacks = (f.blockingStacks ?? [])
    .map(
      (s, i) =>
        `<details${i === 0 ? ' open' : ''}><summary>#${i + 1} — ${s.count} block(s), ${escapeHtml(formatMs(s.totalMs))} in total, longest ${escapeHtml(formatMs(s.maxMs))}</summary>${framesHtml(s.frames)}</details>`,
    )
    .join('');
  return (
    `<section class="finding ${f.severity}" data-kind="${f.kind}">` +
    `<h3>${escapeHtml(f.title)} <span class="badge">${f.kind === 'healthy' ? 'ok' : f.severity}</span></h3>` +
    `<p>${escapeHtml(f.summary)}</p>` +
    `<table class="evidence">${evidence}</table>` +
    (stacks ? `<h4>Top blocking stacks</h4>${stacks}` : '') +
    (f.syncIoSites?.length ? `<h4>Call sites, costliest first</h4>${syncIoSitesHtml(f.syncIoSites)}` : '') +
    `<p class="next"><strong>Next step:</strong> ${escapeHtml(f.nextStep)}</p>` +
    `</section>`
  );
}

function growingHtml(growing: GrowingConstructor[] | undefined): string {
  if (!growing?.length) return '';
  const rows = growing
    .map(
      (c) =>
        `<tr><td><code>${escapeHtml(c.name)}</code></td><td>+${c.countDelta}</td><td>+${escapeHtml(formatBytes(c.sizeDeltaBytes))}</td><td>${c.retainedBytes !== undefined ? escapeHtml(formatBytes(c.retainedBytes)) : '—'}</td></tr>`,
    )
    .join('');
  return `<h2 id="growing">Growing constructors between the heap snapshots</h2><table class="growing"><tr><th>constructor</th><th>objects</th><th>self size</th><th>retained by the new objects</th></tr>${rows}</table>`;
}

function syncIoSitesHtml(sites: SyncIoSite[]): string {
  const where = (f: StackFrame): string => `<code>${escapeHtml(`${f.functionName} (${f.file}:${f.line})`)}</code>`;
  const rows = sites
    .map(
      (s) =>
        `<tr><td><code>${escapeHtml(s.call)}</code></td><td>×${s.count}</td><td>${escapeHtml(formatMs(s.totalMs))}</td><td>${escapeHtml(formatMs(s.maxMs))}</td>` +
        `<td>${where(s.caller)}${s.caller.sourceLine ? `<span class="src">${escapeHtml(s.caller.sourceLine)}</span>` : ''}${s.via ? `<br><span class="muted">called from</span> ${where(s.via)}` : ''}</td></tr>`,
    )
    .join('');
  return `<table class="sync-io"><tr><th>call</th><th>calls</th><th>total</th><th>longest</th><th>call site</th></tr>${rows}</table>`;
}

/** Synchronous I/O that was traced but is not a finding (a finding shows its call sites itself). */
function syncIoHtml(diagnosis: Diagnosis): string {
  const io = diagnosis.syncIo;
  if (!io || diagnosis.findings.some((f) => f.syncIoSites)) return '';
  const head = '<h2 id="sync-io">Synchronous I/O after start-up</h2>';
  if (!io.totalCalls)
    return `${head}<p class="muted">None: no synchronous fs, child_process, zlib or crypto call after start-up.</p>`;
  return `${head}<p class="muted">${io.totalCalls} call(s), ${escapeHtml(formatMs(io.totalMs))} in all: not enough for a finding.</p>${syncIoSitesHtml(io.sites)}`;
}

function pausesHtml(pauses: { text: string }[], totalMs: number): string {
  if (!pauses.length) return '';
  const items = pauses.map((p) => `<li>${escapeHtml(p.text)}</li>`).join('');
  return `<h2 id="hangwatch-pauses">hangwatch's own pauses</h2><p class="muted">Not counted as the program's blocking (${escapeHtml(formatMs(totalMs))} in all).</p><ul class="pauses">${items}</ul>`;
}

function blocksHtml(blocks: BlockEvent[], note: string | undefined): string {
  if (!blocks.length) {
    return `<p class="muted">No block events with stacks${note ? ` (${escapeHtml(note)})` : ''}. Blocking is judged from the event-loop delay series above.</p>`;
  }
  const sorted = [...blocks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 50);
  return (
    `<p class="muted">${blocks.length} block(s); the ${sorted.length} longest:</p>` +
    sorted
      .map((b) => {
        const frames = b.stack ?? b.samples[0]?.frames ?? [];
        const where = frames.find((f) => !isNodeInternal(f)) ?? frames[0];
        const own = b.hangwatchPause
          ? ` <span class="badge">hangwatch's own: ${escapeHtml(formatMs(b.hangwatchPause.ms))} to ${escapeHtml(describeSelfPauseReason(b.hangwatchPause.reason))}</span>`
          : '';
        return `<details class="block"><summary><strong>${escapeHtml(formatMs(b.durationMs))}</strong>${own} at ${escapeHtml(b.startedAt)}${where ? ` — <code>${escapeHtml(formatFrame(where))}</code>` : ''}</summary>${frames.length ? framesHtml(frames) : `<p class="muted">no stack${b.stackError ? `: ${escapeHtml(b.stackError)}` : ''}</p>`}</details>`;
      })
      .join('')
  );
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#11181c;background:#f8f9fa}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}h3{font-size:15px;margin:0 0 6px}h4{margin:12px 0 6px;font-size:13px}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.meta{color:#687076}.muted{color:#687076}
.finding{background:#fff;border:1px solid #dfe3e6;border-left:5px solid #30a46c;border-radius:6px;padding:12px 16px;margin:10px 0}
.finding.warning{border-left-color:#f76b15}.finding.critical{border-left-color:#e5484d}
.badge{font-size:11px;text-transform:uppercase;letter-spacing:.04em;padding:1px 6px;border-radius:8px;background:#eceef0;color:#11181c;vertical-align:middle}
.critical .badge{background:#ffe5e5;color:#cd2b31}.warning .badge{background:#ffefd6;color:#bd4b00}
table.evidence,table.growing,table.sync-io{border-collapse:collapse;margin:6px 0}
table.evidence th,table.growing th,table.sync-io th{text-align:left;font-weight:500;color:#687076;padding:2px 14px 2px 0;vertical-align:top}
table.evidence td,table.growing td,table.sync-io td{padding:2px 14px 2px 0;vertical-align:top}
.next{background:#f1f3f5;border-radius:4px;padding:6px 10px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
figure.chart{background:#fff;border:1px solid #dfe3e6;border-radius:6px;margin:0;padding:8px}
figcaption{font-weight:600;font-size:13px;margin:0 0 4px;display:flex;justify-content:space-between;flex-wrap:wrap;gap:6px}
.legend{font-weight:400;color:#687076}.legend-item{margin-left:10px}.legend-item i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
svg.chart-svg{width:100%;height:auto;display:block}svg .axis{font:10px system-ui,sans-serif;fill:#687076}
ol.stack{margin:4px 0;padding-left:28px}.frame.internal{color:#889096}.src{display:block;color:#687076;font:11px ui-monospace,monospace}
details{background:#fff;border:1px solid #dfe3e6;border-radius:4px;padding:4px 10px;margin:4px 0}summary{cursor:pointer}
`;

// Marks the page as rendered (or failed) for people and for the headless-browser test.
const SCRIPT = `
window.addEventListener('error', function (e) { document.body.setAttribute('data-render-error', String(e.message || e)); });
(function () {
  var data = JSON.parse(document.getElementById('hangwatch-report').textContent);
  var charts = document.querySelectorAll('figure.chart svg');
  var findings = document.querySelectorAll('section.finding');
  if (!data || data.schema !== 'hangwatch.doctor-report') throw new Error('report data missing');
  if (charts.length === 0 || findings.length !== data.diagnosis.findings.length) throw new Error('report incomplete');
  document.querySelectorAll('section.finding').forEach(function (s) {
    s.addEventListener('mouseenter', function () { document.body.setAttribute('data-focus', s.getAttribute('data-kind')); });
  });
  document.body.setAttribute('data-rendered', 'ok');
  document.body.setAttribute('data-chart-count', String(charts.length));
})();
`;

export function renderDoctorHtml(report: DoctorReport): string {
  const { run, diagnosis } = requiredDoctorReport(report);
  const samples = run.samples;
  const durationMs = Math.max(run.durationMs, samples.length ? (samples[samples.length - 1]?.t ?? 0) : 0);
  const pts = (f: (s: (typeof samples)[number]) => number): ChartPoint[] => samples.map((s) => ({ t: s.t, v: f(s) }));
  const rangesOf = (...kinds: Finding['kind'][]) =>
    diagnosis.findings.filter((f) => kinds.includes(f.kind)).flatMap((f) => f.ranges);
  const pct = (v: number): string => `${v.toFixed(0)}%`;
  const cpuSeries = [{ name: 'CPU (in process)', color: COLORS.blue, points: pts((s) => s.cpuPercent) }];
  if (run.external.length)
    cpuSeries.push({
      name: run.externalSource === 'pidusage' ? 'CPU (pidusage)' : 'CPU (/proc)',
      color: COLORS.gray,
      points: run.external.map((e) => ({ t: e.t, v: e.cpuPercent })),
    });
  const charts = [
    renderLineChart({
      id: 'cpu',
      title: 'CPU usage (% of one core)',
      format: pct,
      minYMax: 100,
      durationMs,
      series: cpuSeries,
      highlight: rangesOf('io-wait'),
    }),
    renderLineChart({
      id: 'memory',
      title: 'Memory',
      format: formatBytes,
      axisUnit: 1024 * 1024,
      durationMs,
      series: [
        { name: 'RSS', color: COLORS.purple, points: pts((s) => s.rssBytes) },
        { name: 'heap total', color: COLORS.gray, points: pts((s) => s.heapTotalBytes) },
        { name: 'heap used', color: COLORS.green, points: pts((s) => s.heapUsedBytes) },
      ],
      highlight: rangesOf('memory-leak'),
    }),
    renderLineChart({
      id: 'loop-delay',
      title: 'Event-loop delay',
      format: formatMs,
      durationMs,
      series: [
        { name: 'max', color: COLORS.red, points: pts((s) => s.loopDelay.maxMs) },
        { name: 'p99', color: COLORS.orange, points: pts((s) => s.loopDelay.p99Ms) },
      ],
      threshold: {
        value: diagnosis.thresholds.blockDelayMs,
        label: `blocking threshold ${formatMs(diagnosis.thresholds.blockDelayMs)}`,
      },
      highlight: rangesOf('event-loop-blocking'),
    }),
    renderLineChart({
      id: 'loop-utilization',
      title: 'Event-loop utilization',
      format: pct,
      minYMax: 100,
      durationMs,
      series: [{ name: 'utilization', color: COLORS.orange, points: pts((s) => s.loopUtilization * 100) }],
      highlight: rangesOf('event-loop-blocking', 'io-wait'),
    }),
    renderLineChart({
      id: 'handles',
      title: 'Active handles and operations in flight',
      format: (v) => v.toFixed(0),
      durationMs,
      series: [
        { name: 'active handles', color: COLORS.blue, points: pts((s) => s.activeHandles) },
        { name: 'operations in flight', color: COLORS.orange, points: pts((s) => s.pendingOperations) },
      ],
      highlight: rangesOf('handle-leak', 'io-wait'),
    }),
    renderLineChart({
      id: 'gc',
      title: 'Garbage collection (pause per interval)',
      format: formatMs,
      durationMs,
      series: [
        { name: 'pause', color: COLORS.green, points: pts((s) => s.gc.pauseMs) },
        { name: 'longest pause', color: COLORS.red, points: pts((s) => s.gc.maxPauseMs) },
      ],
      highlight: rangesOf('gc-pressure'),
    }),
  ];
  const sum = diagnosis.summary;
  const verdict = diagnosis.healthy ? 'No problem found' : diagnosis.findings.map((f) => f.title).join(' · ');
  const exit =
    run.exitCode !== undefined ? `exit code ${run.exitCode}` : run.signal ? `ended by ${run.signal}` : 'running';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>hangwatch doctor — ${escapeHtml(verdict)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>hangwatch doctor: ${escapeHtml(verdict)}</h1>
<div class="meta"><code>${escapeHtml(run.command.join(' '))}</code> — started ${escapeHtml(run.startedAt)}, ${escapeHtml(formatMs(run.durationMs))}, ${sum.sampleCount} samples${run.pid ? `, pid ${run.pid}` : ''}, ${escapeHtml(exit)}${run.stoppedByHangwatch ? ' (stopped by hangwatch)' : ''}</div>
<div class="meta">mean CPU ${sum.meanCpuPercent.toFixed(0)}% · longest loop delay ${escapeHtml(formatMs(sum.maxLoopDelayMs))} · peak RSS ${escapeHtml(formatBytes(sum.peakRssBytes))} · peak heap ${escapeHtml(formatBytes(sum.peakHeapUsedBytes))} · ${sum.gcCount} GCs, ${escapeHtml(formatMs(sum.gcPauseMs))} paused</div>
</header>
<h2 id="diagnosis">Diagnosis</h2>
<div class="diagnosis">${diagnosis.findings.map(findingHtml).join('')}</div>
${pausesHtml(diagnosis.hangwatchPauses ?? [], sum.hangwatchPauseMs ?? 0)}
${growingHtml(diagnosis.growingConstructors ?? diagnosis.findings.find((f) => f.growingConstructors)?.growingConstructors)}
${syncIoHtml(diagnosis)}
<h2 id="charts">Over time</h2>
<p class="muted">Shaded: where a finding was seen.</p>
<div class="charts">${charts.join('')}</div>
<h2 id="blocks">Blocks</h2>
${blocksHtml(run.blocks, run.blockStacksError)}
</main>
<script type="application/json" id="hangwatch-report">${scriptJson(report)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
