/**
 * What `hangwatch doctor` produces: the run (series, blocks) and its diagnosis, as one
 * versioned JSON document, rendered as text here and as HTML in render-html-doctor.ts.
 */
import { formatFrame } from '../capture/stack-frame.js';
import type { SupervisedRun } from '../process/supervised-run.js';
import { VISIBLE_STACK_FRAMES, type Diagnosis, type Finding, type GrowingConstructor } from './diagnosis.js';
import { formatBytes, formatMs } from './format-units.js';
import { syncIoSiteLines } from './render-sync-io-text.js';
import { requiredArray, requiredObject } from '../validate.js';

export interface DoctorReport {
  schema: 'hangwatch.doctor-report';
  schemaVersion: 1;
  /** hangwatch version that wrote the report. */
  generator: string;
  run: SupervisedRun;
  diagnosis: Diagnosis;
}

const MARK = { critical: '✖', warning: '▲', info: '✔' } as const;

export function renderFindingText(finding: Finding): string {
  requiredArray('finding.evidence', requiredObject<Finding>('finding', finding, 'a finding').evidence);
  const lines = [
    `${MARK[finding.severity]} ${finding.title}${finding.kind === 'healthy' ? '' : ` (${finding.severity})`}`,
    `  ${finding.summary}`,
    '  evidence:',
  ];
  for (const e of finding.evidence) lines.push(`    ${e.label}: ${e.value}`);
  if (finding.blockingStacks?.length) {
    lines.push('  top blocking stacks:');
    finding.blockingStacks.forEach((s, i) => {
      lines.push(`    #${i + 1} ${s.count} block(s), ${formatMs(s.totalMs)} in total, longest ${formatMs(s.maxMs)}`);
      for (const f of s.frames.slice(0, VISIBLE_STACK_FRAMES)) lines.push(`        at ${formatFrame(f)}`);
    });
  }
  if (finding.syncIoSites?.length) {
    lines.push('  call sites (costliest first):');
    for (const site of finding.syncIoSites) lines.push(...syncIoSiteLines(site, '    '));
  }
  lines.push(`  next step: ${finding.nextStep}`);
  return lines.join('\n');
}

export function growingConstructorText(c: GrowingConstructor): string {
  const retained = c.retainedBytes !== undefined ? `, retaining ${formatBytes(c.retainedBytes)}` : '';
  return `${c.name}: +${c.countDelta} objects, +${formatBytes(c.sizeDeltaBytes)}${retained}`;
}

export function renderDoctorText(report: DoctorReport): string {
  const { run, diagnosis } = requiredDoctorReport(report);
  const head = `hangwatch doctor: ${run.command.join(' ')} — ${formatMs(run.durationMs)}, ${diagnosis.summary.sampleCount} samples${run.pid ? ` of pid ${run.pid}` : ''}`;
  const notes: string[] = [];
  if (!run.pid) notes.push('note: no Node.js process of the command loaded the preload; is it a Node.js program?');
  if (run.blockStacksError) notes.push(`note: blocking stacks not captured: ${run.blockStacksError}`);
  const lines = [head, ...notes, '', ...diagnosis.findings.map(renderFindingText).join('\n\n').split('\n')];
  const pauses = diagnosis.hangwatchPauses ?? [];
  if (pauses.length)
    lines.push(
      '',
      `hangwatch's own pauses (not counted as the program's blocking):`,
      ...pauses.map((p) => `  ${p.text}`),
    );
  const growing =
    diagnosis.growingConstructors ?? diagnosis.findings.find((f) => f.growingConstructors)?.growingConstructors;
  if (growing?.length)
    lines.push(
      '',
      'growing constructors between the heap snapshots (most retained first):',
      ...growing.map((c) => `  ${growingConstructorText(c)}`),
    );
  const io = diagnosis.syncIo;
  // Below a finding's thresholds, the calls are still listed (with a finding, they are in it).
  if (io && !diagnosis.findings.some((f) => f.syncIoSites)) {
    lines.push(
      '',
      io.totalCalls
        ? `synchronous I/O after start-up: ${io.totalCalls} call(s), ${formatMs(io.totalMs)} (not enough for a finding):`
        : 'synchronous I/O after start-up: none',
    );
    for (const site of io.sites) lines.push(...syncIoSiteLines(site, '  '));
  }
  return lines.join('\n');
}

/** A doctor report's two parts, checked before rendering (typed error instead of a TypeError). */
export function requiredDoctorReport(report: DoctorReport): DoctorReport {
  const r = requiredObject<DoctorReport>('report', report, 'a doctor report');
  requiredObject('report.run', r.run, 'the run of a doctor report');
  requiredObject('report.diagnosis', r.diagnosis, 'the diagnosis of a doctor report');
  return r;
}
