/**
 * The steps of one operation (`step()`, `handle.step()`, outbound HTTP requests): when each
 * began and ended, so that a hang report says which step the operation is stuck in and how long
 * the ones before it took. Created on the first step of an operation; bounded — an operation that
 * runs thousands of queries keeps the most recent steps and a count and total of the older ones.
 */
import type { HangSteps, StepKind, StepSummary } from '../report/hang-report.js';

/** Finished steps kept per operation; older ones are folded into `omitted`. */
export const MAX_KEPT_STEPS = 100;

export class StepRecord {
  /** 0 while the step runs. */
  endedAt = 0;
  failed = false;
  constructor(
    /** 1-based position among the operation's steps. */
    readonly index: number,
    readonly name: string,
    readonly kind: StepKind,
    readonly startedAt: number,
  ) {}
}

export class StepLog {
  private readonly records: StepRecord[] = [];
  private total = 0;
  private omitted = 0;
  private omittedMs = 0;
  /** The step begun by `handle.step(name)`, ended by the next one or by `handle.end()`. */
  marker: StepRecord | undefined;

  begin(name: string, kind: StepKind, now: number): StepRecord {
    const record = new StepRecord(++this.total, name, kind, now);
    this.records.push(record);
    if (this.records.length > MAX_KEPT_STEPS) this.dropOldestFinished();
    return record;
  }

  end(record: StepRecord, now: number, failed: boolean): void {
    if (record.endedAt !== 0) return;
    record.endedAt = Math.max(now, record.startedAt);
    record.failed = failed;
  }

  /** The steps as a report shows them: finished ones in order, and those still running (innermost last). */
  summary(now: number, startedAt: number): HangSteps {
    const finished: StepSummary[] = [];
    const running: StepSummary[] = [];
    for (const r of this.records) {
      const s: StepSummary = {
        index: r.index,
        name: r.name,
        kind: r.kind,
        startMs: r.startedAt - startedAt,
        durationMs: (r.endedAt || now) - r.startedAt,
      };
      if (r.failed) s.failed = true;
      (r.endedAt === 0 ? running : finished).push(s);
    }
    const out: HangSteps = { total: this.total, finished, running };
    if (this.omitted > 0) {
      out.omitted = this.omitted;
      out.omittedMs = this.omittedMs;
    }
    return out;
  }

  private dropOldestFinished(): void {
    let i = this.records.findIndex((r) => r.endedAt !== 0);
    // All running: keep them (they are what the operation waits on) up to a hard cap.
    if (i < 0 && this.records.length <= 2 * MAX_KEPT_STEPS) return;
    if (i < 0) i = 0;
    const [r] = this.records.splice(i, 1) as [StepRecord];
    this.omitted++;
    if (r.endedAt !== 0) this.omittedMs += r.endedAt - r.startedAt;
  }
}
