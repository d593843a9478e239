/**
 * `npm run bench:leak-clusters`: how hangwatch's three-snapshot leak finder and memlab's
 * (`@memlab/core`, the engine of `@memlab/api`'s findLeaksBySnapshotFilePaths: external baseline,
 * target and final snapshots, `checkLeak()`) cluster one real leak: an Express app with
 * express-session's MemoryStore, which keeps every session under a random id
 * (test/heap/fixtures/session-store-program.mjs; BENCH_REQUESTS requests per phase, default 2000).
 * memlab runs in three settings: its defaults; `oversizeObjectAsLeak` with threshold 0 (every
 * allocated object a candidate, what its `--trace-all-objects` is for); the same restricted to
 * selected JS objects. Prints, for each, the number of clusters, the largest cluster (count and
 * retained size) and whether a cluster's path goes through `MemoryStore.sessions`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import memlab from '@memlab/core';
import { findLeaks } from '../lib/heap/find-leaks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'hw-bench-leak-clusters-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

process.stderr.write(`bench:leak-clusters — express-session MemoryStore, ${REQUESTS} requests per phase\n`);
execFileSync(process.execPath, [join(ROOT, 'test/heap/fixtures/session-store-program.mjs'), dir, String(REQUESTS)], {
  stdio: 'inherit',
});
const files = ['baseline', 'target', 'final'].map((n) => join(dir, `${n}.heapsnapshot`)) as [string, string, string];

interface Row {
  tool: string;
  clusters: number;
  largest: string;
  sessions: string;
  seconds: number;
}
const rows: Row[] = [];
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

{
  const start = performance.now();
  const report = await findLeaks({ baseline: files[0], target: files[1], final: files[2], maxClusters: 100_000 });
  const top = report.clusters[0];
  const sessions = report.clusters.filter((c) => c.pathText.includes('MemoryStore.sessions'));
  rows.push({
    tool: 'hangwatch heap leaks',
    clusters: report.clusters.length,
    largest: top ? `${top.name} ×${top.count}, ${kib(top.retainedSize)}` : '—',
    sessions: `${sessions.length} cluster(s), ${sessions.reduce((a, c) => a + c.count, 0)} objects, ${kib(sessions.reduce((a, c) => a + c.retainedSize, 0))}`,
    seconds: (performance.now() - start) / 1000,
  });
}

type MemlabLeak = { retainedSize?: number; [key: string]: unknown };
const { config: defaultConfig, analysis } = memlab as unknown as {
  config: { constructor: { resetConfigWithTransientDir(): Record<string, unknown> } };
  analysis: { checkLeak(): Promise<MemlabLeak[]> };
};
const settings: [string, (c: Record<string, unknown>) => void][] = [
  ['memlab (defaults)', () => undefined],
  ['memlab, every object a candidate', (c) => Object.assign(c, { oversizeObjectAsLeak: true, oversizeThreshold: 0 })],
  [
    'memlab, selected JS objects',
    (c) => Object.assign(c, { oversizeObjectAsLeak: true, oversizeThreshold: 0, traceAllObjectsMode: 2 }),
  ],
];
for (const [tool, set] of settings) {
  const c = defaultConfig.constructor.resetConfigWithTransientDir();
  Object.assign(c, {
    externalSnapshotFilePaths: files,
    useExternalSnapshot: true,
    chaseWeakMapEdge: false,
    verbose: false,
  });
  set(c);
  const start = performance.now();
  const leaks = await analysis.checkLeak();
  const text = leaks.map((l) => JSON.stringify(l));
  const sessions = text.filter((s) => s.includes('sessions')).length;
  const sized = leaks.filter((l) => typeof l.retainedSize === 'number');
  const largest = sized.reduce<MemlabLeak | undefined>(
    (a, l) => ((l.retainedSize as number) > (a?.retainedSize ?? -1) ? l : a),
    undefined,
  );
  rows.push({
    tool,
    clusters: leaks.length,
    largest: largest ? kib(largest.retainedSize as number) : leaks.length ? '(no size in its result)' : '—',
    sessions: `${sessions} cluster(s)`,
    seconds: (performance.now() - start) / 1000,
  });
}

console.log('\n| tool | clusters | largest cluster | clusters through MemoryStore.sessions | time |');
console.log('| --- | ---: | --- | --- | ---: |');
for (const r of rows)
  console.log(`| ${r.tool} | ${r.clusters} | ${r.largest} | ${r.sessions} | ${r.seconds.toFixed(1)} s |`);
