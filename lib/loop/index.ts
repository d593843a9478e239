export { monitorEventLoop, type LoopMonitor, type LoopMonitorOptions, type LoopStats } from './monitor-event-loop.js';
