/**
 * `watchEventLoop(options)`: faulthandler.dump_traceback_later for the whole process. If the event
 * loop does not turn for `timeoutMs`, the main thread's stack is reported *while it is still
 * blocked* — and the process can be ended (`action: 'exit'`) — even if it never comes back.
 *
 * It is a hang-detection deadline that is renewed on every turn of the loop (an unref'd interval
 * at a quarter of the timeout), so it shares the deadline timer and the watchdog worker with
 * `withHangDetection`, and never keeps the process alive.
 */
import { InvalidOptionError } from '../errors.js';
import { optionalObject, optionKeys } from '../validate.js';
import { resolveHangOptions, type HangOptions } from './hang-options.js';
import { getHangRuntime } from './hang-runtime.js';
import { ThreadCpuWindow } from '../loop/thread-cpu.js';
import { Operation } from './operation.js';

const LOOP_WATCHDOG_OPTION_KEYS = optionKeys<LoopWatchdogOptions>({
  timeoutMs: true,
  name: true,
  repeatMs: true,
  onHang: true,
  output: true,
  format: true,
  exitCode: true,
  action: true,
});

export type LoopWatchdogOptions = Pick<
  HangOptions,
  'timeoutMs' | 'name' | 'repeatMs' | 'onHang' | 'output' | 'format' | 'exitCode'
> & {
  /** `report` (default) or `exit`: a stalled loop cannot be rejected or aborted. */
  action?: 'report' | 'exit';
};

export interface LoopWatchdog {
  stop(): void;
  /**
   * Resolves once the watchdog worker is up and a stall will be reported while it lasts, with its
   * stack (or once it is known that it cannot be). Stalls before that are reported when the loop
   * comes back, without a stack. A pending `ready()` keeps the process alive (at most 10 s).
   */
  ready(): Promise<void>;
}

export function watchEventLoop(options?: LoopWatchdogOptions): LoopWatchdog {
  const o = optionalObject<LoopWatchdogOptions>('options', options, LOOP_WATCHDOG_OPTION_KEYS);
  if (o.action !== undefined && o.action !== 'report' && o.action !== 'exit') {
    throw new InvalidOptionError('action', '"report" or "exit"', o.action);
  }
  const config = resolveHangOptions({ ...o, name: o.name ?? 'event loop', captureStack: true, keepAlive: false });
  if (config.timeoutMs < 20) throw new InvalidOptionError('timeoutMs', 'at least 20', config.timeoutMs);
  const runtime = getHangRuntime();
  // The thread's CPU time since the loop last turned: a report says whether the loop was blocked
  // (the thread on CPU) or the process starved (it was not running).
  const cpu = new ThreadCpuWindow();
  const begin = (now: number): Operation => {
    cpu.mark(now);
    const next = new Operation(config, config.name ?? 'event loop', now);
    next.cpuWindow = cpu;
    next.renewOnTimer = renewAt;
    runtime.start(next, now);
    return next;
  };
  function renewAt(now: number): void {
    if (!stopped) op = begin(now);
  }
  let stopped = false;
  let op = begin(Date.now());
  const renew = setInterval(
    () => {
      // The loop turned: this turn's deadline is met (or, if it was missed, finish() reports it).
      runtime.finish(op);
      renewAt(Date.now());
    },
    Math.max(5, Math.floor(config.timeoutMs / 4)),
  );
  renew.unref();
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(renew);
      runtime.finish(op);
    },
    ready(): Promise<void> {
      return stopped ? Promise.resolve() : runtime.whenReady();
    },
  };
}
