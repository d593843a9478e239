/**
 * hangwatch — public API. Each capability lives in its own folder under lib/; this file only
 * re-exports what users may import.
 */
export { HangwatchError, InvalidOptionError, InspectorUnavailableError } from './errors.js';
export type { StackFrame } from './capture/stack-frame.js';
