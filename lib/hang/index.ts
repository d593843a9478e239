export {
  withHangDetection,
  createHangDetector,
  wrapWithHangDetection,
  type HangFunction,
  type HangDetector,
} from './with-hang-detection.js';
export type { HangHandle } from './operation.js';
export { HangError } from './errors.js';
export { DEFAULT_TIMEOUT_MS, type HangOptions, type HangContext, type HangContextValue } from './hang-options.js';
export { watchEventLoop, type LoopWatchdog, type LoopWatchdogOptions } from './watch-event-loop.js';
export { step } from './step.js';
