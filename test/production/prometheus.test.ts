/**
 * The Prometheus exporter: metric text (histogram consistency, hang and block counters, GC, heap),
 * registry hygiene, and a real Prometheus server (Debian's `prometheus`) scraping the endpoint.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import t from 'tap';
import { withHangDetection, type HangReport } from '../../lib/index.js';
import { MetricsAlreadyRegisteredError } from '../../lib/export/errors.js';
import { createPrometheusExporter } from '../../lib/export/prometheus.js';
import { startPrometheus } from './helpers/services.js';
import { servicesRequired } from '../helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function realHang(route: string): Promise<HangReport> {
  let report: HangReport | undefined;
  await withHangDetection(() => sleep(120), {
    timeoutMs: 30,
    output: 'none',
    context: { route },
    onHang: (r) => (report = r),
  });
  if (!report) throw new Error('no report');
  return report;
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('metrics text', async (t) => {
  const registry = new Registry();
  const exporter = createPrometheusExporter({ registry });
  t.teardown(() => exporter.stop());
  exporter.recordHang(await realHang('/tasks'));
  exporter.recordHang({ ...(await realHang('/tasks')), repeat: 1 }); // a repeat is not a new hang
  exporter.recordBlock({ durationMs: 120 });
  exporter.recordBlock({ durationMs: Number.NaN }); // ignored
  const end = Date.now() + 120;
  while (Date.now() < end); // a 120 ms delay for the loop histogram
  await sleep(50);
  (globalThis as { gc?: () => void }).gc?.();
  const text = await exporter.metrics();
  t.equal(sample(text, 'hangwatch_hangs_total', '{kind="pending",route="/tasks"}'), 1, 'one hang counted for /tasks');
  t.equal(sample(text, 'hangwatch_event_loop_blocks_total'), 1);
  t.equal(sample(text, 'hangwatch_event_loop_block_duration_seconds_bucket', '{le="0.25"}'), 1);
  t.equal(sample(text, 'hangwatch_event_loop_block_duration_seconds_bucket', '{le="0.1"}'), 0);
  const count = sample(text, 'hangwatch_event_loop_delay_seconds_count') as number;
  t.ok(count > 0, 'the loop delay histogram has samples');
  t.equal(sample(text, 'hangwatch_event_loop_delay_seconds_bucket', '{le="+Inf"}'), count, '+Inf bucket = count');
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith('hangwatch_event_loop_delay_seconds_bucket'))
    .map((l) => Number(l.split(' ').pop()));
  t.ok(
    buckets.every((v, i) => i === 0 || v >= (buckets[i - 1] as number)),
    'buckets are cumulative',
  );
  t.ok(
    (sample(text, 'hangwatch_event_loop_delay_max_seconds') as number) >= 0.05,
    'the 120 ms block shows in the max delay',
  );
  t.ok((sample(text, 'hangwatch_heap_bytes', '{type="used"}') as number) > 1e6, 'heap used');
  t.match(text, /# TYPE hangwatch_gc_pause_seconds histogram/);
  const elu = sample(text, 'hangwatch_event_loop_utilization') as number;
  t.ok(elu >= 0 && elu <= 1, 'utilization in 0..1');

  t.throws(
    () => createPrometheusExporter({ registry }),
    MetricsAlreadyRegisteredError,
    'a second exporter on the same registry is refused',
  );
  exporter.stop();
  t.equal((await registry.metrics()).trim(), '', 'stop() removes every metric');
  const again = createPrometheusExporter({ registry, gc: false });
  again.stop();
  t.throws(() => createPrometheusExporter({ registry, prefix: 'bad prefix' }));
  t.throws(() => createPrometheusExporter({ registry, delayBuckets: [0.1, 0.05] }));
});

t.test('a real Prometheus server scrapes the metrics', async (t) => {
  const registry = new Registry();
  const exporter = createPrometheusExporter({ registry });
  t.teardown(() => exporter.stop());
  exporter.recordHang(await realHang('/tasks/:id'));
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.statusCode = 404;
      res.end();
      return;
    }
    void exporter.metrics().then((body) => {
      res.setHeader('content-type', exporter.contentType);
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const prom = await startPrometheus([`127.0.0.1:${(server.address() as AddressInfo).port}`]);
  if (!prom.ok) {
    if (servicesRequired()) t.fail(`CI must start Prometheus: ${prom.reason}`);
    else t.plan(0, `skipped: ${prom.reason}`);
    return;
  }
  t.teardown(() => prom.value.stop());
  const deadline = Date.now() + 30_000;
  let result: Awaited<ReturnType<typeof prom.value.query>> = [];
  while (Date.now() < deadline) {
    result = await prom.value.query('hangwatch_hangs_total');
    if (result.length > 0) break;
    await sleep(500);
  }
  t.equal(result.length, 1, 'Prometheus has the hang counter');
  t.equal(result[0]?.metric.route, '/tasks/:id');
  t.equal(result[0]?.metric.kind, 'pending');
  t.equal(result[0]?.value[1], '1');
  const delay = await prom.value.query('hangwatch_event_loop_delay_seconds_count');
  t.ok(Number(delay[0]?.value[1]) > 0, 'and the loop delay histogram');
});
