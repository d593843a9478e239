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
import { Operation } from './operation.js';

const LOOP_WATCHDOG_OPTION_KEYS = optionKeys<LoopWatchdogOptions>({ timeoutMs: true, name: true, repeatMs: true, onHang: true, output: true, format: true, exitCode: true, action: true });

export type LoopWatchdogOptions = Pick<HangOptions, 'timeoutMs' | 'name' | 'repeatMs' | 'onHang' | 'output' | 'format' | 'exitCode'> & {
  /** `report` (default) or `exit`: a stalled loop cannot be rejected or aborted. */
  action?: 'report' | 'exit';
};

export interface LoopWatchdog {
  stop(): void;
}

export function watchEventLoop(options?: LoopWatchdogOptions): LoopWatchdog {
  const o = optionalObject<LoopWatchdogOptions>('options', options, LOOP_WATCHDOG_OPTION_KEYS);
  if (o.action !== undefined && o.action !== 'report' && o.action !== 'exit') {
    throw new InvalidOptionError('action', '"report" or "exit"', o.action);
  }
  const config = resolveHangOptions({ ...o, name: o.name ?? 'event loop', captureStack: true, keepAlive: false });
  if (config.timeoutMs < 20) throw new InvalidOptionError('timeoutMs', 'at least 20', config.timeoutMs);
  const runtime = getHangRuntime();
  const begin = (): Operation => {
    const now = Date.now();
    const op = new Operation(config, config.name ?? 'event loop', now);
    runtime.start(op, now);
    return op;
  };
  let op = begin();
  const renew = setInterval(() => {
    // The loop turned: this turn's deadline is met (or, if it was missed, finish() reports it).
    runtime.finish(op);
    op = begin();
  }, Math.max(5, Math.floor(config.timeoutMs / 4)));
  renew.unref();
  let stopped = false;
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(renew);
      runtime.finish(op);
    },
  };
}
