// The root entry point's export list is pinned: adding (or dropping) a root export is a deliberate
// act that edits this list and README's API section. Renderers, log helpers, report parts and
// advanced types belong to the subpath entry points, each of which README lists.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../lib/index.js';
import { root } from './helpers.js';

const ROOT_VALUES = [
  'AllocationFilter',
  'AllocationSnapshot',
  'AllocationTrackingNotStartedError',
  'ChildStartError',
  'CpuProfile',
  'CpuProfileSession',
  'DEFAULT_SAMPLING_INTERVAL_BYTES',
  'DEFAULT_SAMPLING_INTERVAL_US',
  'DEFAULT_TIMEOUT_MS',
  'HangError',
  'HangwatchError',
  'HeapBackendUnavailableError',
  'HeapGrowthDetector',
  'HeapSnapshot',
  'HeapSnapshotCaptureError',
  'HeapSnapshotFormatError',
  'HeapSnapshotReadError',
  'InspectorCommandError',
  'InspectorUnavailableError',
  'InsufficientDiskSpaceError',
  'InvalidAllocationSnapshotError',
  'InvalidCpuProfileError',
  'InvalidOptionError',
  'MetricsAlreadyRegisteredError',
  'NotAHeapSnapshotError',
  'PoolAlreadyWatchedError',
  'ProcessNotFoundError',
  'ProcessSamplingUnsupportedError',
  'ProfilerBackendUnavailableError',
  'ProfilerBusyError',
  'ProfilerNotRunningError',
  'SnapshotCorruptError',
  'SnapshotTruncatedError',
  'SyncIoTracingError',
  'UnknownFunctionError',
  'UnknownPoolError',
  'cpuProfile',
  'createDiagnosticsHandler',
  'createHangDetector',
  'diffHeapSnapshots',
  'findLeaks',
  'getTracedMemory',
  'isTrackingAllocations',
  'loadHeapSnapshot',
  'monitorEventLoop',
  'monitorGc',
  'parseHeapSnapshot',
  'resetTracedMemoryPeak',
  'startAllocationTracking',
  'startCpuProfile',
  'startPprofFileExport',
  'step',
  'stopAllocationTracking',
  'takeAllocationSnapshot',
  'traceSyncIo',
  'watchEventLoop',
  'watchPool',
  'withHangDetection',
  'wrapWithHangDetection',
  'writeHeapSnapshot',
];

const ROOT_TYPES = [
  'AllocationFilterSpec',
  'AllocationTrackingOptions',
  'BlockEvent',
  'CaptureProgress',
  'CpuProfileOptions',
  'CpuProfilerBackendName',
  'DiagnosticsEndpoint',
  'DiagnosticsHandler',
  'DiagnosticsHandlerOptions',
  'FindLeaksOptions',
  'FindLeaksProgress',
  'GcEvent',
  'GcKind',
  'GcKindStats',
  'GcMonitor',
  'GcMonitorOptions',
  'GcStats',
  'HangContext',
  'HangDetector',
  'HangFunction',
  'HangHandle',
  'HangOptions',
  'HangReport',
  'HeapDiff',
  'HeapDiffOptions',
  'HeapPoint',
  'HeapSnapshotBackend',
  'LeakReport',
  'LeakSuspicion',
  'LoadHeapSnapshotOptions',
  'LoadProgress',
  'LoopMonitor',
  'LoopMonitorOptions',
  'LoopStats',
  'LoopWatchdog',
  'LoopWatchdogOptions',
  'PoolAdapter',
  'PoolCountsInput',
  'PoolWatch',
  'PprofFileExport',
  'PprofFileExportOptions',
  'PprofKind',
  'ReportFormat',
  'ReportOutput',
  'SnapshotInput',
  'StackFrame',
  'SyncIoReport',
  'SyncIoTracer',
  'TraceSyncIoOptions',
  'TracedMemory',
  'WatchPoolOptions',
  'WriteHeapSnapshotOptions',
];

/** Names an entry file re-exports (`export { a, type B } from` / `export type { C } from`), values and types apart. */
function exportedNames(file: string): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(/^export\s+(type\s+)?\{([^}]*)\}\s*from/gm)) {
    for (const item of (match[2] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const name = item
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop() as string;
      (match[1] || item.startsWith('type ') ? types : values).push(name);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

t.test('the root exports exactly the pinned values', async (t) => {
  t.same(Object.keys(api).sort(byName), [...ROOT_VALUES].sort(byName));
});

t.test('the root exports exactly the pinned types', async (t) => {
  const names = exportedNames(join(root, 'lib/index.ts'));
  t.same(names.values.sort(byName), [...ROOT_VALUES].sort(byName), 'the file parse agrees with the module');
  t.same(names.types.sort(byName), [...ROOT_TYPES].sort(byName));
});

t.test('every error class hangwatch exports is at the root', async (t) => {
  for (const name of ROOT_VALUES.filter((n) => n.endsWith('Error'))) {
    const cls = (api as Record<string, unknown>)[name] as { prototype: unknown };
    t.ok(cls.prototype instanceof Error, `${name} is an Error`);
    t.ok(name === 'HangwatchError' || cls.prototype instanceof api.HangwatchError, `${name} is a HangwatchError`);
  }
});

t.test("README's API section names every root export and every subpath", async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## API'), readme.indexOf('\n## ', readme.indexOf('\n## API') + 1));
  t.ok(section.length > 100, 'README has an "## API" section');
  for (const name of [...ROOT_VALUES, ...ROOT_TYPES])
    t.ok(new RegExp(`\\b${name}\\b`).test(section), `README names ${name}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  for (const subpath of Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json')) {
    t.ok(section.includes(`\`hangwatch/${subpath.slice(2)}\``), `README lists hangwatch/${subpath.slice(2)}`);
  }
});

t.test('every entry point of package.json is built from the source its type-check path names', async (t) => {
  type Conditions = { types?: string; default: string };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import: string | Conditions; require: string | Conditions }>;
  };
  const paths = (
    JSON.parse(readFileSync(join(root, 'tsconfig.typecheck.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    }
  ).compilerOptions.paths;
  const entries = Object.entries(pkg.exports).filter(([key]) => key !== './package.json');
  t.same(
    Object.keys(paths).sort(byName),
    entries.map(([key]) => (key === '.' ? 'hangwatch' : `hangwatch/${key.slice(2)}`)).sort(byName),
    'one path per entry point',
  );
  for (const [key, target] of entries) {
    const name = key === '.' ? 'hangwatch' : `hangwatch/${key.slice(2)}`;
    const source = paths[name]?.[0]?.replace(/^\.\//, '').replace(/\.ts$/, '');
    if (typeof target === 'string' || !source) {
      t.fail(`${name}: no conditions or no source`);
      continue;
    }
    for (const [condition, build] of [
      ['import', 'esm'],
      ['require', 'cjs'],
    ] as const) {
      const files = target[condition];
      const expected = `./dist/${build}/${source}.js`;
      if (typeof files === 'string') t.equal(files, expected, `${name} ${condition}`);
      else
        t.same(
          files,
          { types: `./dist/${build}/${source}.d.ts`, default: expected },
          `${name} ${condition}, with types`,
        );
    }
  }
});
