/**
 * What `hangwatch doctor` produces: the run (series, blocks) and its diagnosis, as one
 * versioned JSON document, rendered as text here and as HTML in render-html-doctor.ts.
 */
import { formatFrame } from '../capture/stack-frame.js';
import type { SupervisedRun } from '../process/supervised-run.js';
import type { Diagnosis, Finding } from './diagnosis.js';
import { formatBytes, formatMs } from './format-units.js';
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
  const lines = [`${MARK[finding.severity]} ${finding.title}${finding.kind === 'healthy' ? '' : ` (${finding.severity})`}`, `  ${finding.summary}`, '  evidence:'];
  for (const e of finding.evidence) lines.push(`    ${e.label}: ${e.value}`);
  if (finding.blockingStacks?.length) {
    lines.push('  top blocking stacks:');
    finding.blockingStacks.forEach((s, i) => {
      lines.push(`    #${i + 1} ${s.count} block(s), ${formatMs(s.totalMs)} in total, longest ${formatMs(s.maxMs)}`);
      for (const f of s.frames.slice(0, 8)) lines.push(`        at ${formatFrame(f)}`);
    });
  }
  if (finding.growingConstructors?.length) {
    lines.push('  growing constructors:');
    for (const c of finding.growingConstructors) {
      const retained = c.retainedBytes !== undefined ? `, retaining ${formatBytes(c.retainedBytes)}` : '';
      lines.push(`    ${c.name}: +${c.countDelta} objects, +${formatBytes(c.sizeDeltaBytes)}${retained}`);
    }
  }
  lines.push(`  next step: ${finding.nextStep}`);
  return lines.join('\n');
}

export function renderDoctorText(report: DoctorReport): string {
  const { run, diagnosis } = requiredDoctorReport(report);
  const head = `hangwatch doctor: ${run.command.join(' ')} — ${formatMs(run.durationMs)}, ${diagnosis.summary.sampleCount} samples${run.pid ? ` of pid ${run.pid}` : ''}`;
  const notes: string[] = [];
  if (!run.pid) notes.push('note: no Node.js process of the command loaded the preload; is it a Node.js program?');
  if (run.blockStacksError) notes.push(`note: blocking stacks not captured: ${run.blockStacksError}`);
  return [head, ...notes, '', ...diagnosis.findings.map(renderFindingText).join('\n\n').split('\n')].join('\n');
}

/** A doctor report's two parts, checked before rendering (typed error instead of a TypeError). */
export function requiredDoctorReport(report: DoctorReport): DoctorReport {
  const r = requiredObject<DoctorReport>('report', report, 'a doctor report');
  requiredObject('report.run', r.run, 'the run of a doctor report');
  requiredObject('report.diagnosis', r.diagnosis, 'the diagnosis of a doctor report');
  return r;
}
