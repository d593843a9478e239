export { monitorEventLoop, type LoopMonitor, type LoopMonitorOptions, type LoopStats } from './monitor-event-loop.js';
export type { BlockEvent, BlockSample, HotFrame } from '../report/block-event.js';
export { renderBlockEventText } from '../report/render-block-text.js';
