/** The Prometheus exporter's pool gauges, as the pool tests check them. */
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { createPrometheusExporter } from '../../../lib/export/prometheus.js';

/** `hangwatch_pool_resources{pool, state}` of a fresh exporter has each expected value. */
export async function assertPoolGauges(t: Test, pool: string, expected: Record<string, number>): Promise<void> {
  const exporter = createPrometheusExporter({ registry: new Registry(), gc: false });
  try {
    const metrics = await exporter.metrics();
    for (const [state, value] of Object.entries(expected)) {
      t.match(
        metrics,
        new RegExp(`hangwatch_pool_resources\\{pool="${pool}",state="${state}"\\} ${value}\\n`),
        `${state} ${value}`,
      );
    }
  } finally {
    exporter.stop();
  }
}
