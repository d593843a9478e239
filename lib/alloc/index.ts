/**
 * Entry point `hangwatch/alloc`: what an `AllocationSnapshot` is made of — traces, statistics and
 * their differences, the keys and options of `statistics()` / `compareTo()` — and `formatStatistic`
 * to print one. Tracking allocations, `AllocationSnapshot` and `AllocationFilter` are at the root
 * (`hangwatch`).
 */
export { formatStatistic } from './snapshot.js';
export type { AllocationTrace, AllocationStatistic, AllocationStatisticDiff, StatisticKey, StatisticsOptions, AllocationSnapshotMeta } from './snapshot.js';
