/**
 * Entry point `hangwatch/alloc`: what an `AllocationSnapshot` is made of — traces, statistics and
 * their differences, the keys and options of `statistics()` / `compareTo()`, the raw V8 sampling
 * heap profile that `AllocationSnapshot.fromSamplingProfile` reads — and `formatStatistic` to print
 * a statistic. Tracking allocations, `AllocationSnapshot` and `AllocationFilter` are at the root
 * (`hangwatch`).
 */
export { formatStatistic } from './snapshot.js';
export type {
  AllocationTrace,
  AllocationStatistic,
  AllocationStatisticDiff,
  StatisticKey,
  StatisticsOptions,
  AllocationSnapshotMeta,
} from './snapshot.js';
export type { RawSamplingHeapProfile } from '../capture/profile-format.js';
