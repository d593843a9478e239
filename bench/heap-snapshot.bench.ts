/**
 * npm run bench:heap — hangwatch's loadHeapSnapshot + dominators + retainer paths against memlab
 * (@memlab/core) on the same generated snapshot of at least 300 MB, in the same run: wall time and
 * peak RSS, each tool in its own child process. The snapshot is generated once and cached in
 * bench/.cache/ (delete it to regenerate).
 *
 * Env: HEAP_BENCH_ITEMS (default 550000 items, ~350 MB), HEAP_BENCH_MIN_MB (default 300).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Result } from './fixtures/heap-parse-worker.js';

const run = promisify(execFile);
const root = process.cwd();
const cacheDir = join(root, 'bench', '.cache');
const items = Number(process.env.HEAP_BENCH_ITEMS ?? 550_000);
const minMb = Number(process.env.HEAP_BENCH_MIN_MB ?? 300);
const file = join(cacheDir, `bench-${items}.heapsnapshot`);

async function ensureSnapshot(): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(cacheDir, { recursive: true });
  process.stderr.write(`generating a heap snapshot with ${items} items into ${file} …\n`);
  const tmp = `${file}.tmp`;
  await run(
    process.execPath,
    [
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(root, 'bench', 'fixtures', 'allocate-heap.ts'),
      tmp,
      String(items),
    ],
    {
      maxBuffer: 1 << 20,
    },
  );
  renameSync(tmp, file);
}

async function measure(tool: 'hangwatch' | 'memlab'): Promise<Result> {
  const { stdout } = await run(
    process.execPath,
    [
      '--max-old-space-size=16384',
      '--import',
      'tsx',
      join(root, 'bench', 'fixtures', 'heap-parse-worker.ts'),
      tool,
      file,
    ],
    {
      maxBuffer: 64 << 20,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${tool}: no result in output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as Result;
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  await ensureSnapshot();
  const size = statSync(file).size;
  if (size < minMb * 1048576) throw new Error(`snapshot is ${mb(size)}, below ${minMb} MB; raise HEAP_BENCH_ITEMS`);
  process.stderr.write(`snapshot: ${file} (${mb(size)})\n`);
  const ours = await measure('hangwatch');
  process.stderr.write(`hangwatch: ${s(ours.totalMs)}, ${mb(ours.maxRssBytes)}\n`);
  const theirs = await measure('memlab');
  process.stderr.write(`memlab:    ${s(theirs.totalMs)}, ${mb(theirs.maxRssBytes)}\n`);

  const speedup = theirs.totalMs / ours.totalMs;
  const memoryRatio = ours.maxRssBytes / theirs.maxRssBytes;
  const rssToFile = ours.maxRssBytes / size;
  const rows = [
    ['', 'parse', 'dominators+paths', 'total', 'peak RSS', 'nodes', 'edges', 'root retained'],
    ...[ours, theirs].map((r) => [
      r.tool,
      s(r.parseMs),
      s(r.analyzeMs),
      s(r.totalMs),
      mb(r.maxRssBytes),
      String(r.nodeCount),
      String(r.edgeCount),
      String(r.rootRetainedSize),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(
    `\nheap snapshot ${mb(size)} (${ours.nodeCount} nodes, ${ours.edgeCount} edges), Node ${process.version}\n`,
  );
  for (const r of rows)
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('');
  console.log(
    `speed:        hangwatch is ${speedup.toFixed(2)}x faster than memlab        (target >= 2x)      ${speedup >= 2 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `peak memory:  hangwatch uses ${memoryRatio.toFixed(2)}x memlab's peak RSS       (target <= 0.5x)    ${memoryRatio <= 0.5 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `peak RSS / file size: ${rssToFile.toFixed(2)}x                                (target < 3x)       ${rssToFile < 3 ? 'PASS' : 'FAIL'}`,
  );
  if (ours.nodeCount !== theirs.nodeCount || ours.edgeCount !== theirs.edgeCount)
    console.log('warning: the tools disagree on node/edge counts');
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'heap.json'),
    JSON.stringify({ file, size, node: process.version, ours, theirs, speedup, memoryRatio, rssToFile }, null, 2),
  );
}

main().catch((error: unknown) => {
  console.error((error as Error).stack ?? String(error));
  process.exit(1);
});
