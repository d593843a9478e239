/**
 * PLACEHOLDER — replaced by the lead on merge.
 *
 * The event-loop block monitor (issue 3) is built by the lead on main. This file holds ONLY its
 * agreed type declarations and functions that throw, so that the doctor and the preload
 * type-check in this worktree. Callers (lib/register.ts) treat the throw as "block stacks
 * unavailable" and carry on with the delay histogram.
 */
import type { StackFrame } from '../capture/stack-frame.js';

export interface LoopMonitorOptions {
  thresholdMs?: number;
  captureStacks?: boolean;
  sampleIntervalMs?: number;
  onBlock?: (event: BlockEvent) => void;
  maxEvents?: number;
}
export interface LoopMonitor {
  stats(): LoopStats;
  blocks(): BlockEvent[];
  reset(): void;
  stop(): void;
}
export interface LoopStats {
  samples: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  utilization: number;
  blockCount: number;
}
export interface BlockEvent {
  schema: 'hangwatch.block-event';
  schemaVersion: 1;
  id: number;
  startedAt: string;
  durationMs: number;
  stack?: StackFrame[];
  samples: { offsetMs: number; frames: StackFrame[] }[];
  hotFrames: { frame: StackFrame; ratio: number }[];
  stackError?: string;
}

export function monitorEventLoop(_opts?: LoopMonitorOptions): LoopMonitor {
  throw new Error('placeholder: replaced by the lead on merge');
}
