/**
 * `GET …/loop`: event-loop delay (the handler's own histogram), utilization since the previous
 * call, heap use and uptime, and the stats of a loop monitor when one was given.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export class LoopStatsEndpoint {
  #delay: IntervalHistogram | undefined;
  #elu: EventLoopUtilization;
  readonly #loopMonitor: { stats(): unknown } | undefined;

  /** Starts the delay histogram (10 ms resolution) until `close()`. */
  constructor(loopMonitor: { stats(): unknown } | undefined) {
    this.#loopMonitor = loopMonitor;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
  }

  read(): unknown {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.#elu).utilization;
    this.#elu = now;
    const d = this.#delay;
    const out: Record<string, unknown> = {
      delayMs:
        d && d.count > 0
          ? {
              samples: d.count,
              min: ms(d.min),
              mean: ms(d.mean),
              p50: ms(d.percentile(50)),
              p90: ms(d.percentile(90)),
              p99: ms(d.percentile(99)),
              max: ms(d.max),
            }
          : { samples: 0 },
      utilizationSinceLastCall: utilization,
      heap: (({ used_heap_size, total_heap_size, heap_size_limit }) => ({
        used: used_heap_size,
        total: total_heap_size,
        limit: heap_size_limit,
      }))(getHeapStatistics()),
      uptimeSeconds: Math.round(process.uptime()),
    };
    if (this.#loopMonitor) {
      try {
        out.monitor = this.#loopMonitor.stats();
      } catch (err) {
        out.monitorError = (err as Error).message;
      }
    }
    return out;
  }

  /** Stop the delay histogram; idempotent (the stats then show no delay samples). */
  close(): void {
    this.#delay?.disable();
    this.#delay = undefined;
  }
}
