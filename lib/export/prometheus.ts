/**
 * Prometheus metrics through `prom-client` (`hangwatch/prometheus`; prom-client is an optional
 * peer dependency): event-loop delay as a histogram, event-loop utilization, blocks, hangs, GC
 * pauses and V8 heap figures.
 *
 * ```ts
 * import client from 'prom-client';
 * import { createPrometheusExporter } from 'hangwatch/prometheus';
 * const metrics = createPrometheusExporter();             // registers on client.register
 * app.use(hangwatchExpress({ onHang: metrics.recordHang }));
 * monitorEventLoop({ onBlock: metrics.recordBlock });
 * app.get('/metrics', async (_req, res) => res.type(client.register.contentType).send(await client.register.metrics()));
 * ```
 *
 * The exporter does not depend on the event-loop monitor: it owns a `perf_hooks`
 * `monitorEventLoopDelay` histogram (sampling every `eventLoopResolutionMs`, default 10 ms) for the
 * delay metrics; blocks and hangs arrive through `recordBlock` / `recordHang`.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import * as client from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { monitorGc, type GcMonitor } from '../gc/monitor.js';
import { watchedPools } from '../pool/watch-pool.js';
import type { HangReport } from '../report/hang-report.js';
import { booleanOption, numberOption, optionalObject, optionKeys, stringOption } from '../validate.js';
import { MetricsAlreadyRegisteredError } from './errors.js';
import type { BlockEventLike } from './events.js';

const PROMETHEUS_EXPORTER_OPTION_KEYS = optionKeys<PrometheusExporterOptions>({
  registry: true,
  prefix: true,
  eventLoopResolutionMs: true,
  delayBuckets: true,
  durationBuckets: true,
  gc: true,
  maxLabelLength: true,
});

export interface PrometheusExporterOptions {
  /** Registry to register on (default: prom-client's global `register`). */
  registry?: client.Registry;
  /** Metric name prefix (default `hangwatch_`). */
  prefix?: string;
  /** Sampling resolution of the event-loop delay histogram, ms (default 10; ≥ 1). */
  eventLoopResolutionMs?: number;
  /** Upper bounds of the event-loop delay buckets, seconds. */
  delayBuckets?: number[];
  /** Upper bounds of the block and GC pause buckets, seconds. */
  durationBuckets?: number[];
  /** Observe GC pauses (default true). */
  gc?: boolean;
  /** Longest `route` label value kept; longer ones are cut (default 100). */
  maxLabelLength?: number;
}

export interface PrometheusExporter {
  readonly registry: client.Registry;
  /** Count a hang report (pass as, or call from, `onHang`). Bound: can be passed around. */
  readonly recordHang: (report: HangReport) => void;
  /** Count an event-loop block (pass as, or call from, the loop monitor's `onBlock`). Bound. */
  readonly recordBlock: (event: BlockEventLike) => void;
  /** The registry's exposition text. */
  metrics(): Promise<string>;
  readonly contentType: string;
  /** Stop sampling and remove the exporter's metrics from the registry; idempotent. */
  stop(): void;
}

const DEFAULT_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEFAULT_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function bucketsOption(name: string, value: unknown, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some(
      (v, i) => typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (i > 0 && v <= (value[i - 1] as number)),
    )
  ) {
    throw new InvalidOptionError(name, 'a non-empty array of increasing positive numbers (seconds)', value);
  }
  return [...(value as number[])];
}

/**
 * The perf_hooks histogram as a Prometheus histogram: the count is exact; each bucket's count is
 * the count times the fraction of samples at or under the bound, read from the histogram's
 * percentile table (HDR precision, within a few percent).
 */
function delayHistogramMetric(
  name: string,
  help: string,
  h: IntervalHistogram,
  buckets: number[],
): client.Metric & { get(): Promise<client.MetricObjectWithValues<client.MetricValue<string>>> } {
  const metric = {
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    async get() {
      const count = h.count;
      const values: Array<client.MetricValueWithName<string>> = [];
      const table = count > 0 ? [...h.percentiles.entries()].sort((a, b) => a[0] - b[0]) : [];
      for (const le of buckets) {
        const boundNs = le * 1e9;
        let fraction = 0;
        if (count > 0 && boundNs >= h.max) fraction = 1;
        else for (const [p, v] of table) if (v <= boundNs) fraction = p / 100;
        values.push({ metricName: `${name}_bucket`, labels: { le }, value: Math.round(count * fraction) });
      }
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: count > 0 ? (h.mean * count) / 1e9 : 0 });
      values.push({ metricName: `${name}_count`, labels: {}, value: count });
      return { name, help, type: 'histogram' as unknown as client.MetricType, aggregator: 'sum' as const, values };
    },
    reset() {
      h.reset();
    },
  };
  return metric as unknown as client.Metric & {
    get(): Promise<client.MetricObjectWithValues<client.MetricValue<string>>>;
  };
}

export function createPrometheusExporter(options?: PrometheusExporterOptions): PrometheusExporter {
  const o = optionalObject<PrometheusExporterOptions>('options', options, PROMETHEUS_EXPORTER_OPTION_KEYS);
  const registry = o.registry ?? client.register;
  if (!registry || typeof (registry as client.Registry).registerMetric !== 'function')
    throw new InvalidOptionError('registry', 'a prom-client Registry', o.registry);
  const prefix = stringOption('prefix', o.prefix, 'hangwatch_');
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new InvalidOptionError('prefix', 'a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', prefix);
  const resolution = numberOption('eventLoopResolutionMs', o.eventLoopResolutionMs, 10, {
    min: 1,
    max: 10_000,
    integer: true,
  });
  const delayBuckets = bucketsOption('delayBuckets', o.delayBuckets, DEFAULT_DELAY_BUCKETS);
  const durationBuckets = bucketsOption('durationBuckets', o.durationBuckets, DEFAULT_DURATION_BUCKETS);
  const observeGc = booleanOption('gc', o.gc, true);
  const maxLabel = numberOption('maxLabelLength', o.maxLabelLength, 100, { min: 1, max: 1000, integer: true });

  const n = (s: string): string => `${prefix}${s}`;
  const names = [
    'event_loop_delay_seconds',
    'event_loop_delay_max_seconds',
    'event_loop_utilization',
    'event_loop_blocks_total',
    'event_loop_block_duration_seconds',
    'hangs_total',
    'gc_pause_seconds',
    'heap_bytes',
    'pool_resources',
  ].map(n);
  // Check every name before starting anything, so a refused exporter leaves nothing behind.
  const taken = names.find((name) => registry.getSingleMetric(name) !== undefined);
  if (taken) throw new MetricsAlreadyRegisteredError(taken);
  const registered: string[] = [];
  const register = <M extends client.Metric>(make: () => M, name: string): M => {
    const m = make();
    registry.registerMetric(m);
    registered.push(name);
    return m;
  };

  const loopDelay = monitorEventLoopDelay({ resolution });
  loopDelay.enable();
  register(
    () =>
      delayHistogramMetric(
        n('event_loop_delay_seconds'),
        'Event-loop delay, sampled every resolution ms by perf_hooks.monitorEventLoopDelay',
        loopDelay,
        delayBuckets,
      ),
    n('event_loop_delay_seconds'),
  );
  register(
    () =>
      new client.Gauge({
        name: n('event_loop_delay_max_seconds'),
        help: 'Largest event-loop delay seen since the exporter started',
        registers: [],
        collect() {
          this.set(loopDelay.count > 0 ? loopDelay.max / 1e9 : 0);
        },
      }),
    n('event_loop_delay_max_seconds'),
  );
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  register(
    () =>
      new client.Gauge({
        name: n('event_loop_utilization'),
        help: 'Fraction of time the event loop was busy since the previous scrape (0..1)',
        registers: [],
        collect() {
          const now = performance.eventLoopUtilization();
          this.set(performance.eventLoopUtilization(now, elu).utilization);
          elu = now;
        },
      }),
    n('event_loop_utilization'),
  );
  const blocks = register(
    () =>
      new client.Counter({
        name: n('event_loop_blocks_total'),
        help: 'Event-loop blocks reported by the loop monitor',
        registers: [],
      }),
    n('event_loop_blocks_total'),
  );
  const blockDuration = register(
    () =>
      new client.Histogram({
        name: n('event_loop_block_duration_seconds'),
        help: 'Duration of reported event-loop blocks',
        buckets: durationBuckets,
        registers: [],
      }),
    n('event_loop_block_duration_seconds'),
  );
  const hangs = register(
    () =>
      new client.Counter({
        name: n('hangs_total'),
        help: 'Hang reports (operations or requests past their deadline), by kind and route',
        labelNames: ['kind', 'route'],
        registers: [],
      }),
    n('hangs_total'),
  );
  const gcPause = register(
    () =>
      new client.Histogram({
        name: n('gc_pause_seconds'),
        help: 'Garbage-collection pauses, by kind',
        labelNames: ['kind'],
        buckets: durationBuckets,
        registers: [],
      }),
    n('gc_pause_seconds'),
  );
  register(
    () =>
      new client.Gauge({
        name: n('pool_resources'),
        help: 'Resources of each pool watched with watchPool, by state: size, max, idle, checked_out, waiting, held_after_end (checked out by operations that already ended: leaks)',
        labelNames: ['pool', 'state'],
        registers: [],
        collect() {
          this.reset();
          for (const w of watchedPools()) {
            const c = w.counts();
            const pool = w.name.slice(0, maxLabel);
            this.set({ pool, state: 'size' }, c.size);
            if (c.max !== undefined) this.set({ pool, state: 'max' }, c.max);
            this.set({ pool, state: 'idle' }, c.idle);
            this.set({ pool, state: 'checked_out' }, c.checkedOut);
            this.set({ pool, state: 'waiting' }, c.waiting);
            this.set({ pool, state: 'held_after_end' }, w.heldAfterEnd());
          }
        },
      }),
    n('pool_resources'),
  );
  register(
    () =>
      new client.Gauge({
        name: n('heap_bytes'),
        help: 'V8 heap: used, total (committed), limit, external',
        labelNames: ['type'],
        registers: [],
        collect() {
          const s = getHeapStatistics();
          this.set({ type: 'used' }, s.used_heap_size);
          this.set({ type: 'total' }, s.total_heap_size);
          this.set({ type: 'limit' }, s.heap_size_limit);
          this.set({ type: 'external' }, s.external_memory);
        },
      }),
    n('heap_bytes'),
  );

  let gc: GcMonitor | undefined;
  if (observeGc) gc = monitorGc({ onGc: (e) => gcPause.observe({ kind: e.kind }, e.durationMs / 1000) });

  let stopped = false;
  const recordHang = (report: HangReport): void => {
    if (stopped || !report || typeof report !== 'object') return;
    // repeats of the same operation are not new hangs
    if (report.repeat > 0) return;
    const route = report.context?.route;
    const label = String(route ?? report.name ?? 'unknown');
    hangs.inc({
      kind: String(report.kind ?? 'unknown'),
      route: label.length > maxLabel ? label.slice(0, maxLabel) : label,
    });
  };
  const recordBlock = (event: BlockEventLike): void => {
    if (stopped || !event || typeof event.durationMs !== 'number' || !Number.isFinite(event.durationMs)) return;
    blocks.inc();
    blockDuration.observe(event.durationMs / 1000);
  };
  return {
    registry,
    recordHang,
    recordBlock,
    metrics: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      loopDelay.disable();
      gc?.stop();
      for (const name of registered) registry.removeSingleMetric(name);
    },
  };
}
