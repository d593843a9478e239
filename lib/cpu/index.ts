/**
 * Entry point `hangwatch/cpu`: what a `CpuProfile` is made of and the options of its views —
 * pstats-like statistics (`CpuStats`, `FunctionStats`, sort keys), call relations, the raw V8
 * profile format, frame filters and flame-graph options. Starting a profile and the `CpuProfile`
 * class are at the root (`hangwatch`).
 */
export type {
  CpuProfileMeta,
  CpuProfileViewOptions,
  CallRelation,
  FunctionRef,
  PrintOptions,
  CpuOutputFormat,
} from './cpu-profile.js';
export {
  CpuStats,
  STATS_SORT_KEYS,
  type FunctionStats,
  type StatsSortKey,
  type StatsSummary,
  type FormatOptions,
} from './stats.js';
export type { FlameGraphOptions } from '../report/flame-graph.js';
export type { RawCpuProfile } from '../capture/profile-format.js';
export type { PathPattern, FrameFilterOptions } from '../capture/frame-filter.js';
