/**
 * The steps of a hung operation in a text report: the step it is stuck in, the steps before it
 * with their durations — "Stuck in step 3 of 3, 'fetch invoices', for 4.2 s; before it:
 * authenticate 20 ms, load profile 41 ms".
 */
import { formatMs } from './format-units.js';
import type { HangSteps, StepSummary } from './hang-report.js';

/** Finished steps named on the line; more are summed up. */
const MAX_LISTED = 12;

export function renderStepsText(steps: HangSteps): string[] {
  const lines: string[] = [];
  const stuck = steps.running[steps.running.length - 1];
  const before = steps.finished.filter((s) => !stuck || s.index < stuck.index);
  const after = steps.finished.length - before.length;
  if (stuck) {
    let line = `Stuck in step ${stuck.index} of ${steps.total}, ${describe(stuck)}, for ${formatMs(stuck.durationMs)}`;
    const outer = steps.running.slice(0, -1);
    if (outer.length > 0) line += ` (inside ${outer.map((s) => `step ${s.index} ${describe(s)}`).join(', inside ')})`;
    lines.push(`${line}${before.length > 0 || steps.omitted ? `; before it: ${listed(before, steps)}` : ''}`);
    if (after > 0)
      lines.push(
        `  (${after} step${after > 1 ? 's' : ''} begun after it finished: ${listed(steps.finished.slice(before.length), undefined)})`,
      );
  } else {
    lines.push(
      `No step is running (${steps.total} finished${steps.total > 0 ? `: ${listed(steps.finished, steps)}` : ''}); the operation is stuck after its last step.`,
    );
  }
  return lines;
}

function describe(s: StepSummary): string {
  return `'${s.name}'`;
}

function listed(finished: StepSummary[], all: HangSteps | undefined): string {
  const parts: string[] = [];
  if (all?.omitted)
    parts.push(`${all.omitted} earlier step${all.omitted > 1 ? 's' : ''} ${formatMs(all.omittedMs ?? 0)}`);
  const shown = finished.length > MAX_LISTED ? finished.slice(-MAX_LISTED) : finished;
  if (shown.length < finished.length) {
    const rest = finished.slice(0, finished.length - shown.length);
    parts.push(`${rest.length} more ${formatMs(rest.reduce((n, s) => n + s.durationMs, 0))}`);
  }
  for (const s of shown) parts.push(`${s.name} ${formatMs(s.durationMs)}${s.failed ? ' (failed)' : ''}`);
  return parts.join(', ');
}
