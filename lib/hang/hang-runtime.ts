/**
 * The process-wide state behind `withHangDetection`: one deadline scheduler, the watchdog hook
 * for operations whose deadline passes while the event loop is blocked, and the delivery of
 * reports (sink, onHang, action). Main thread and worker threads each have their own runtime,
 * shared by every copy of hangwatch loaded in the thread (lib/watchdog/process-registry.ts):
 * operations begun by any copy are handled here, by the copy that came first.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { isHangwatchFrame } from '../capture/own-files.js';
import { isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import type { HangReport } from '../report/hang-report.js';
import { renderHangReportText } from '../report/render-hang-text.js';
import { processSingleton } from '../watchdog/process-registry.js';
import { DEADLINE_GRACE_MS } from '../watchdog/shared-state.js';
import { getWatchdog, whyNoStacks, type Watchdog } from '../watchdog/watchdog.js';
import { buildHangReport, type Observation } from './build-hang-report.js';
import { classifyCpuWindow, ThreadCpuWindow } from '../loop/thread-cpu.js';
import { DeadlineScheduler } from './deadline-scheduler.js';
import { HangError } from './errors.js';
import type { Operation, OperationOwner, OperationRuntime } from './operation.js';

/** A capture that found no application code on the stack is looked at again this much later. */
const LOOK_AGAIN_MS = 250;
/** The timer ran this late: the loop was blocked at the deadline (used when no stack was captured). */
const LATE_MEANS_BLOCKED_MS = 100;

class HangRuntime implements OperationRuntime {
  private readonly scheduler = new DeadlineScheduler<Operation>(
    (op, now) => this.expire(op, now),
    (deadline) => {
      this.watchdog?.publishNextDeadline(deadline);
      if (deadline > 0) this.cpu.mark(Date.now());
    },
    (now) => this.watchdog?.markDeadlinesDone(now),
  );
  /**
   * The main thread's CPU time since the deadline timer was last armed: a timer that ran late
   * because synchronous work held the loop (blocked) or because the process was not scheduled
   * (starved — the loop was free, the operation is just late: not a blocked report).
   */
  private readonly cpu = new ThreadCpuWindow();
  private watchdog: Watchdog | undefined;
  private watchdogTried = false;
  /**
   * When hangwatch last finished building and delivering a report from the timer. A burst of
   * deadlines (many requests stuck on the same pool) makes the timer late by hangwatch's own
   * reporting work; that lateness must not make later reports say the loop was blocked.
   */
  private reportingUntil = 0;

  start(op: Operation, now: number): void {
    op.runtime = this;
    if (op.config.captureStack && !this.watchdogTried) {
      this.startWatchdog();
      // Starting the worker is hangwatch's own time (a thread start, ~20 ms on a loaded machine):
      // the operation's deadline counts from after it, or a short timeout would pass while
      // hangwatch starts and be reported as "blocked".
      now = Math.max(now, Date.now());
    }
    this.scheduler.add(op, op.config.timeoutMs, now);
  }

  /**
   * The operation's function finished (value or error). Returns a HangError when the operation
   * must be rejected because it was hung (reported while blocked, or found late just now).
   */
  finish(op: Operation): HangError | undefined {
    if (op.settled) return undefined;
    op.settled = true;
    this.scheduler.remove(op);
    op.closeScope();
    const now = Date.now();
    op.endedAt = now;
    let last: HangReport | undefined;
    if (op.undelivered) {
      last = this.deliverUndelivered(op);
    } else if (op.reports === 0 && now > op.deadline + DEADLINE_GRACE_MS) {
      // Ran past its deadline without the timer or the watchdog getting to it: the loop was
      // blocked by this very operation (sync work), or too busy for the timer.
      last = this.report(op, {
        kind: 'blocked',
        now,
        dueAt: op.deadline,
        stackUnavailable: this.noStackReason('the operation finished before a stack could be captured'),
      });
    }
    if (!last) return undefined;
    const action = op.config.action;
    if (action === 'exit' && !starved(last)) exitProcess(op.config.exitCode);
    return action === 'reject' || action === 'abort' ? hangErrorOf(op, last) : undefined;
  }

  private startWatchdog(): void {
    this.watchdogTried = true;
    const watchdog = getWatchdog();
    watchdog.acquire(this);
    watchdog.setDeadlineHandler((frames, capturedAt, unavailable, pauseDelayMs) =>
      this.onBlockedDeadline(frames, capturedAt, unavailable, pauseDelayMs),
    );
    this.watchdog = watchdog;
  }

  private noStackReason(fallback: string): string {
    return whyNoStacks(this.watchdog) ?? this.watchdog?.lastCaptureError ?? fallback;
  }

  /** Resolves once the watchdog can capture stacks (or is known not to), at once without a watchdog. */
  whenReady(): Promise<void> {
    return this.watchdog ? this.watchdog.whenReady() : Promise.resolve();
  }

  /** The timer ran (the loop is free): the operation's deadline (or repeat time) has passed. */
  private expire(op: Operation, now: number): void {
    if (op.settled) return;
    let last: HangReport;
    if (op.undelivered) {
      last = this.deliverUndelivered(op) as HangReport;
    } else {
      const late = now - Math.max(op.deadline, this.reportingUntil);
      const blocked =
        late > LATE_MEANS_BLOCKED_MS &&
        classifyCpuWindow(late, LATE_MEANS_BLOCKED_MS, this.cpu.measure(now)).cause !== 'starved';
      if (!blocked && op.renewOnTimer) {
        // A loop watch whose renewing interval has not run yet (a starved process runs due
        // timers in any order): this timer running on time is itself the loop turning.
        op.settled = true;
        op.renewOnTimer(now);
        return;
      }
      last = this.report(op, {
        kind: blocked ? 'blocked' : 'pending',
        now,
        dueAt: op.deadline,
        stackUnavailable: blocked
          ? this.noStackReason(`the timer ran ${Math.round(late)} ms late and the watchdog did not capture the stack`)
          : undefined,
      });
    }
    this.applyAction(op, last, now);
    this.reportingUntil = Date.now();
  }

  private applyAction(op: Operation, report: HangReport, now: number): void {
    switch (op.config.action) {
      case 'report':
        if (op.config.repeatMs > 0) this.scheduler.add(op, op.config.repeatMs, now);
        return;
      case 'exit':
        // A stall that is the process not being scheduled: the program is not hung, watch on.
        if (starved(report)) this.scheduler.add(op, op.config.timeoutMs, now);
        else exitProcess(op.config.exitCode);
        return;
      case 'abort':
      case 'reject': {
        op.settled = true;
        op.endedAt = now;
        op.closeScope();
        const err = hangErrorOf(op, report);
        op.reject?.(err);
        if (op.owner) callOwner(op.owner, err);
        return;
      }
    }
  }

  /** Make a report: build it, write it to the sink, give it to onHang. */
  private report(op: Operation, seen: Observation): HangReport {
    const report = buildHangReport(op, seen);
    writeToSink(op, report);
    callOnHang(op, report);
    return report;
  }

  private deliverUndelivered(op: Operation): HangReport | undefined {
    const reports = op.undelivered ?? [];
    op.undelivered = undefined;
    for (const r of reports) callOnHang(op, r);
    return reports[reports.length - 1];
  }

  /**
   * Runs while the watchdog holds the main thread paused, blocked past a deadline: report every
   * operation that is due, write the reports now (the loop may never come back), leave onHang
   * and the action for when it does — except `exit`, which happens right here.
   */
  private onBlockedDeadline(
    frames: StackFrame[] | undefined,
    capturedAt: number,
    unavailable: string | undefined,
    pauseDelayMs: number,
  ): void {
    const watchdog = this.watchdog;
    if (!watchdog) return;
    // Paused inside our own timer callback: the loop is not blocked, the timer handles it.
    if (frames?.some((f) => f.functionName === DeadlineScheduler.timerFunctionName)) return;
    // Paused with no application code on the stack — Node's own machinery between callbacks, or
    // hangwatch's: the loop is turning, late (a loaded machine), not held by the program. An
    // operation's timer reports it when it runs (if the loop really is stuck in there, the watchdog
    // looks again and the late timer's report says so). A loop watch reports the stall now: the
    // loop not turning is what it watches, and its report says whether the thread was starved.
    const noApplicationFrame = frames?.every((f) => isNodeInternal(f) || isHangwatchFrame(f)) ?? false;
    let exitCode: number | undefined;
    let nextCapture = Infinity;
    const exiting: Operation[] = [];
    for (const op of this.scheduler.expired(capturedAt)) {
      if (op.settled) continue;
      if (noApplicationFrame && !op.renewOnTimer) {
        // Left to the timer; should the loop not come back, the watchdog looks again.
        nextCapture = Math.min(nextCapture, capturedAt + LOOK_AGAIN_MS);
        continue;
      }
      if (op.blockedCaptureAfter > capturedAt) {
        nextCapture = Math.min(nextCapture, op.blockedCaptureAfter);
        continue;
      }
      const report = buildHangReport(op, {
        kind: 'blocked',
        now: capturedAt,
        dueAt: Math.max(op.deadline, op.blockedCaptureAfter),
        mainStack: frames,
        stackUnavailable: unavailable,
        pauseDelayMs,
      });
      writeToSink(op, report);
      (op.undelivered ??= []).push(report);
      const repeat = op.config.action === 'report' && op.config.repeatMs > 0;
      // action exit on a starved process (not hung): look again a timeout later instead.
      const recheck = op.config.action === 'exit' && starved(report);
      op.blockedCaptureAfter = repeat
        ? capturedAt + op.config.repeatMs
        : recheck
          ? capturedAt + op.config.timeoutMs
          : Infinity;
      if (repeat || recheck) nextCapture = Math.min(nextCapture, op.blockedCaptureAfter);
      if (op.config.action === 'exit' && !recheck) {
        exitCode ??= op.config.exitCode;
        exiting.push(op);
      }
    }
    if (exitCode !== undefined) {
      // Here, inside the watchdog's inspector session: the loop may never come back, so this is
      // the only place to exit. (Ending the blocked JavaScript instead, to exit on the next turn
      // without the session, is not safe: Runtime.terminateExecution inside a callback corrupts
      // Node's async-hooks stack and the process aborts.)
      for (const op of exiting) this.deliverUndelivered(op);
      process.on('exit', muteDebuggerNotice);
      exitProcess(exitCode);
    }
    watchdog.markDeadlinesDone(capturedAt);
    const next = Math.min(nextCapture, this.scheduler.nextAfter(capturedAt));
    watchdog.publishNextDeadline(next === Infinity ? 0 : next);
  }
}

/** The HangError of actions reject/abort; `abort` (and any action on a handle) aborts the signal with it. */
function hangErrorOf(op: Operation, report: HangReport): HangError {
  const err = new HangError(report);
  op.hangError = err;
  if (op.config.action === 'abort' || op.isHandle) op.controller?.abort(err);
  return err;
}

function callOwner(owner: OperationOwner, err: HangError): void {
  try {
    owner.onHangTimeout(err);
  } catch (e) {
    warn('onHangTimeout threw', e);
  }
}

function writeToSink(op: Operation, report: HangReport): void {
  op.config.sink.write(renderHangReportText(report), JSON.stringify(report), report);
}

function callOnHang(op: Operation, report: HangReport): void {
  const onHang = op.config.onHang;
  if (!onHang) return;
  try {
    onHang(report);
  } catch (err) {
    warn('onHang threw', err);
  }
}

function warn(what: string, err: unknown): void {
  try {
    writeSync(2, `hangwatch: ${what}: ${(err as Error)?.stack ?? String(err)}\n`);
  } catch {
    // nothing left to tell
  }
}

/**
 * The last exit listener of an exit made inside the watchdog's session (every other exit handler
 * has run): Node is about to print "Waiting for the debugger to disconnect..." to stderr because
 * that session is still connected — it cannot end while this thread is inside one of its commands.
 * Point fd 2 at /dev/null (`open` takes the lowest free descriptor, 2) so that the program's
 * stderr ends with hangwatch's own "exiting" line. POSIX only.
 */
function muteDebuggerNotice(): void {
  // fd 2 is the process's: only the main thread, whose exit is the process's, may touch it.
  if (process.platform === 'win32' || !isMainThread) return;
  try {
    closeSync(2);
    openSync('/dev/null', 'w');
  } catch {
    // stderr stays as it is
  }
}

/**
 * A `watchEventLoop` stall whose main thread barely ran (BlockEvent.cause rule): the process was not
 * scheduled. Action `exit` is not taken for it — ending a process because the machine is busy
 * would turn load into a crash loop.
 */
function starved(report: HangReport): boolean {
  return report.cause === 'starved';
}

function exitProcess(code: number): void {
  try {
    writeSync(2, `hangwatch: exiting with code ${code} (action "exit")\n`);
  } catch {
    // stderr closed
  }
  process.exit(code);
}

let runtime: HangRuntime | undefined;

/**
 * The thread's hang runtime, shared by every copy of hangwatch loaded in it (see
 * process-registry.ts). Cached here after the first look-up: it is on every operation's path.
 */
export function getHangRuntime(): HangRuntime {
  runtime ??= processSingleton('hang-runtime', () => new HangRuntime());
  return runtime;
}
