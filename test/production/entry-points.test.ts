/**
 * The package's entry points from the built package (run `npm run build` first; `npm test` does):
 * the core, its subpaths (report, log, heap, cpu, alloc, process) and the middleware load with
 * every optional peer dependency unresolvable; the exporters that need one say which.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { root } from '../helpers.js';
import { runFixture } from '../helpers.js';

const built =
  existsSync(join(root, 'dist/esm/lib/middleware/express.js')) &&
  existsSync(join(root, 'dist/cjs/lib/export/prometheus.js'));

t.test(
  'entry points without the optional peer dependencies',
  { skip: built ? false : 'dist/ is not built (npm run build)' },
  async (t) => {
    const r = await runFixture(join(root, 'test/production/fixtures/load-without-peers.mjs'));
    t.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, string>;
    for (const kind of ['esm', 'cjs']) {
      t.equal(result[`${kind} hangwatch`], 'ok', `${kind}: the core loads`);
      for (const subpath of ['report', 'log', 'heap', 'cpu', 'alloc', 'process']) {
        t.equal(result[`${kind} hangwatch/${subpath}`], 'ok', `${kind}: hangwatch/${subpath} loads`);
      }
      t.equal(
        result[`${kind} hangwatch/express`],
        'ok',
        `${kind}: the Express middleware needs no express at run time`,
      );
      t.equal(result[`${kind} hangwatch/fastify`], 'ok', `${kind}: the Fastify plugin needs no fastify at run time`);
      t.match(
        result[`${kind} hangwatch/prometheus`],
        /prom-client/,
        `${kind}: the Prometheus exporter names its missing peer`,
      );
      t.match(
        result[`${kind} hangwatch/opentelemetry`],
        /@opentelemetry/,
        `${kind}: the OpenTelemetry exporter names its missing peer`,
      );
    }
  },
);
