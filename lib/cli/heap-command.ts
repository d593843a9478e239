/**
 * `hangwatch heap summary FILE | diff A B | leaks BASE TARGET FINAL`.
 * Text tables on stdout (or `--json`), a progress bar on stderr for large files.
 */
import { statSync } from 'node:fs';
import { HangwatchError } from '../errors.js';
import { type OptionSpec, parseCommandLine, stringArg } from './cli-args.js';
import { UsageError } from './errors.js';
import { diffHeapSnapshots, type HeapDiff } from '../heap/heap-diff.js';
import { findLeaks, type LeakReport } from '../heap/find-leaks.js';
import { leakPathSegments, type LeakPathStep } from '../heap/leak-path.js';
import type { ClassSummary, HeapSnapshot } from '../heap/heap-snapshot.js';
import { loadHeapSnapshot } from '../heap/load-heap-snapshot.js';
import { createProgressBar, type ProgressBar } from './progress-bar.js';
import { pidArg } from './pid-arg.js';
import { snapshotOfProcess } from './process-heap-snapshot.js';

export const usage = `usage:
  hangwatch heap snapshot PID [-o FILE]       take a heap snapshot of a running Node.js process (through
                                              its inspector, closed again afterwards; Linux/macOS)
  hangwatch heap summary FILE                 objects grouped by constructor (DevTools Summary view)
  hangwatch heap diff BEFORE AFTER            new/deleted objects per constructor (Comparison view);
                                              --retained adds what the new objects retain
  hangwatch heap leaks BASELINE TARGET FINAL  three-snapshot leak finding, clustered by retainer path
                                              shape (indices and dynamic keys collapsed: one growing
                                              collection is one cluster)

options:
  -o, --out FILE         snapshot: where to write it (default ./hangwatch-PID-TIME.heapsnapshot)
  --json                 machine-readable output on stdout
  --top N                rows or clusters to show (default 20 for summary/diff, 10 for leaks)
  --progress             always show progress on stderr (default: only on a terminal, for files > 64 MiB)
  --no-progress          never show progress
  --retained             diff: also compute the retained size of each class's new objects and
                         sort by it (a leaking record is small; the payloads it keeps are not)
  --include-internal     leaks: report V8 internals too (hidden objects, code, shapes, contexts)
  --min-retained BYTES   leaks: drop clusters retaining less
  --full-path            leaks: print each example path from the GC roots (default: from the
                         first step a user recognises; the JSON always has the full path)
  -h, --help             show this help
`;

const LARGE_FILE = 64 * 1024 * 1024;

const HEAP_OPTIONS = {
  json: { type: 'boolean', default: false },
  out: { type: 'string', short: 'o' },
  top: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  'include-internal': { type: 'boolean', default: false },
  retained: { type: 'boolean', default: false },
  'min-retained': { type: 'string' },
  'full-path': { type: 'boolean', default: false },
} as const satisfies OptionSpec;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, command } = parseCommandLine(argv, HEAP_OPTIONS, { allowPositionals: true });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  // Arguments after `--` are files too (a file name that starts with a dash).
  const [sub, ...files] = [...positionals, ...command];
  const topText = stringArg(values, 'top');
  const minRetainedText = stringArg(values, 'min-retained');
  const out = stringArg(values, 'out');
  const retained = values.retained === true;
  try {
    const top = topText === undefined ? undefined : positiveInt('--top', topText);
    const minRetained = minRetainedText === undefined ? 0 : positiveInt('--min-retained', minRetainedText, true);
    const wanted = (n: number, name: string): void => {
      if (files.length !== n)
        throw new UsageError(`"heap ${name}" takes ${n} snapshot file${n > 1 ? 's' : ''}, got ${files.length}`);
    };
    const progress = makeProgress(
      files,
      values.progress === true ? true : values['no-progress'] === true ? false : undefined,
    );
    switch (sub) {
      case 'snapshot': {
        if (files.length !== 1) throw new UsageError(`"heap snapshot" takes one pid, got ${files.length} arguments`);
        const pid = pidArg(files[0]!);
        const { file, bytes } = await snapshotOfProcess(pid, out, values['no-progress'] !== true);
        print(values.json ? json('snapshot', { pid, file, bytes }) : `${file}: ${formatBytes(bytes)}`);
        return 0;
      }
      case 'summary': {
        wanted(1, 'summary');
        const snapshot = await load(files[0]!, 'reading', progress);
        progress.status('computing dominators and retained sizes…');
        const rows = snapshot.summary();
        progress.done();
        print(values.json ? json('summary', summaryJson(snapshot, rows)) : renderSummary(snapshot, rows, top ?? 20));
        return 0;
      }
      case 'diff': {
        wanted(2, 'diff');
        const before = await load(files[0]!, 'reading before', progress);
        const after = await load(files[1]!, 'reading after', progress);
        progress.status('comparing…');
        const diff = diffHeapSnapshots(before, after, { retainedSizes: retained });
        progress.done();
        print(
          values.json
            ? json('diff', { before: files[0], after: files[1], ...diff })
            : renderDiff(diff, top ?? 20, retained),
        );
        return 0;
      }
      case 'leaks': {
        wanted(3, 'leaks');
        const report = await findLeaks({
          baseline: files[0]!,
          target: files[1]!,
          final: files[2]!,
          includeInternal: values['include-internal'] === true,
          minRetainedSize: minRetained,
          maxClusters: top ?? 10,
          onProgress: (p) => {
            if (p.phase === 'analyze') progress.status('finding leaks (dominators, retainer paths)…');
            else progress.update(`reading ${p.phase}`, p.bytesRead, p.totalBytes);
          },
        });
        progress.done();
        for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
        print(
          values.json
            ? json('leaks', { baseline: files[0], target: files[1], final: files[2], ...report })
            : renderLeaks(report, values['full-path'] === true),
        );
        return 0;
      }
      case undefined:
        throw new UsageError('missing subcommand');
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (error) {
    // Bad arguments go to the dispatcher, which prints them with the usage and exits 2.
    if (error instanceof UsageError) throw error;
    // Attaching fails with typed errors the dispatcher prints with their code.
    if (sub === 'snapshot' && error instanceof HangwatchError) throw error;
    process.stderr.write(
      `\n${error instanceof HangwatchError ? error.message : `hangwatch: ${(error as Error)?.stack ?? String(error)}`}\n`,
    );
    return 1;
  }
}

function positiveInt(name: string, text: string, allowZero = false): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || (!allowZero && n === 0))
    throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text}"`);
  return n;
}

function makeProgress(files: string[], forced: boolean | undefined): ProgressBar {
  if (forced !== undefined) return createProgressBar(process.stderr, forced);
  let large = false;
  for (const f of files) {
    try {
      if (statSync(f).size > LARGE_FILE) large = true;
    } catch {
      // reported by the loader
    }
  }
  return createProgressBar(process.stderr, large && Boolean(process.stderr.isTTY));
}

function load(file: string, label: string, progress: ProgressBar): Promise<HeapSnapshot> {
  return loadHeapSnapshot(file, { onProgress: (p) => progress.update(label, p.bytesRead, p.totalBytes) });
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function json(kind: string, body: object): string {
  return JSON.stringify({ schema: `hangwatch.heap.${kind}/1`, ...body }, null, 2);
}

function summaryJson(snapshot: HeapSnapshot, rows: ClassSummary[]): object {
  return {
    file: snapshot.source,
    nodeCount: snapshot.nodeCount,
    edgeCount: snapshot.edgeCount,
    totalSize: snapshot.retainedSize(snapshot.root),
    classes: rows,
  };
}

// ---- text rendering ----

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes} B`;
  if (abs < 1048576) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (abs < 1073741824) return `${(bytes / 1048576).toFixed(1)} MiB`;
  return `${(bytes / 1073741824).toFixed(2)} GiB`;
}

function signed(n: number, text = String(n)): string {
  return n > 0 ? `+${text}` : text;
}

function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function renderSummary(snapshot: HeapSnapshot, rows: ClassSummary[], top: number): string {
  const total = snapshot.retainedSize(snapshot.root);
  const head = `${snapshot.source}: ${snapshot.nodeCount} nodes, ${snapshot.edgeCount} edges, ${formatBytes(total)} total\n\n`;
  const body = table(
    ['Constructor', 'Count', 'Self size', 'Retained size', '%'],
    rows
      .filter((r) => r.className !== '(synthetic)')
      .slice(0, top)
      .map((r) => [
        truncate(r.className),
        String(r.count),
        formatBytes(r.selfSize),
        formatBytes(r.retainedSize),
        total > 0 ? ((r.retainedSize / total) * 100).toFixed(1) : '0.0',
      ]),
  );
  return `${head}${body}\n`;
}

function renderDiff(diff: HeapDiff, top: number, retained: boolean): string {
  const rows = [...diff.classes]
    .sort(
      (a, b) =>
        (retained ? (b.newRetainedSize ?? 0) - (a.newRetainedSize ?? 0) : 0) ||
        Math.abs(b.sizeDelta) - Math.abs(a.sizeDelta),
    )
    .slice(0, top);
  const t = diff.totals;
  const head = `${t.newCount} new, ${t.deletedCount} deleted, size delta ${signed(t.sizeDelta, formatBytes(t.sizeDelta))} (${diff.commonCount} objects in both)\n\n`;
  const body = table(
    [
      'Constructor',
      '# New',
      '# Deleted',
      '# Delta',
      'Alloc. size',
      'Freed size',
      'Size delta',
      ...(retained ? ['Retained by new'] : []),
    ],
    rows.map((r) => [
      truncate(r.className),
      String(r.newCount),
      String(r.deletedCount),
      signed(r.countDelta),
      formatBytes(r.allocatedSize),
      formatBytes(r.freedSize),
      signed(r.sizeDelta, formatBytes(r.sizeDelta)),
      ...(retained ? [formatBytes(r.newRetainedSize ?? 0)] : []),
    ]),
  );
  const warn =
    diff.commonCount === 0 && t.deletedCount > 0
      ? '\nwarning: no object is in both snapshots; were they taken from different processes?\n'
      : '';
  return `${head}${body}\n${warn}`;
}

function renderLeaks(report: LeakReport, fullPath: boolean): string {
  if (report.clusters.length === 0) {
    return `no leaks: ${report.leakedCount} objects created between baseline and target are still alive in final, none of them program objects (${report.reportedCount} reported)\n`;
  }
  const lines = [
    `${report.reportedCount} leaked objects in ${report.clusters.length} cluster(s), retaining ${formatBytes(report.retainedSize)} (${report.leakedCount} objects alive from baseline..target in total)`,
    '',
  ];
  report.clusters.forEach((c, i) => {
    lines.push(`#${i + 1} ${c.name} ×${c.count}  retained ${formatBytes(c.retainedSize)}`);
    lines.push(`   path:    ${fullPath ? c.shapeText : elidePath(c.path, true, c.userPathStart)}`);
    lines.push(`   example: ${fullPath ? c.pathText : elidePath(c.path, false, c.userPathStart)}`);
    if (c.holds.length > 0)
      lines.push(
        `   holds: ${c.holds
          .slice(0, 5)
          .map((h) => `${h.className} ×${h.count}`)
          .join(', ')}`,
      );
    lines.push(`   ids: ${c.sampleIds.map((id) => `@${id}`).join(' ')}`);
    lines.push('');
  });
  if (report.droppedClusters > 0)
    lines.push(`(${report.droppedClusters} smaller cluster(s) not shown; see --top, --min-retained)`);
  return `${lines.join('\n')}\n`;
}

/** From the first step a user recognises (`… / ` when that is not the root), at most its last ten steps. */
function elidePath(path: LeakPathStep[], shape: boolean, from: number): string {
  const parts = leakPathSegments(path, shape).slice(from);
  const shown = parts.length <= 10 ? parts : [...parts.slice(0, 1), '…', ...parts.slice(-8)];
  return `${from > 0 ? '… / ' : ''}${shown.join(' / ')}`;
}
