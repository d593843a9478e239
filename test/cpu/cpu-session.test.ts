// Live profiling of a known call graph: the hot function must dominate, with its TypeScript line.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { cpuProfile, startCpuProfile } from '../../lib/cpu/session.js';
import { ProfilerBusyError, ProfilerNotRunningError } from '../../lib/cpu/errors.js';
import type { FunctionStats } from '../../lib/cpu/stats.js';
import { topFunction } from './fixtures/call-graph.js';
import { nativeAddonUnavailable } from '../native-addons.js';

const fixture = fileURLToPath(new URL('./fixtures/call-graph.ts', import.meta.url));
const tsLine = (needle: string) =>
  readFileSync(fixture, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;
const UNITS = 100_000;
const nativeProfilerMissing = nativeAddonUnavailable('v8-profiler-next');
const ROUNDS = 30;

function only(stats: Iterable<FunctionStats>, name: string): FunctionStats {
  const found = [...stats].filter((e) => e.functionName === name);
  if (found.length !== 1) throw new Error(`expected one ${name}, got ${found.length}`);
  return found[0]!;
}

t.test('the hot function dominates self and cumulative time, at its TypeScript line', async (t) => {
  const { result, profile } = await cpuProfile(() => topFunction(UNITS, ROUNDS), { samplingIntervalUs: 500 });
  t.equal(result.iterations, ROUNDS, 'fn result is returned');
  t.equal(profile.meta.backend, 'inspector');
  const stats = profile.stats();
  const hot = only(stats, 'hotFunction');
  t.equal(stats.sort('self').entries[0]!.functionName, 'hotFunction', 'hotFunction has the most self time');
  t.ok(hot.selfPercent > 40, `hotFunction self ${hot.selfPercent.toFixed(1)}% > 40%`);
  t.equal(hot.file, fixture);
  t.equal(hot.line, tsLine('export function hotFunction'), 'source-mapped to the .ts line');
  t.ok(hot.generated, 'the position came through a source map');
  const top = only(stats, 'topFunction');
  const middle = only(stats, 'middleFunction');
  t.ok(top.totalTimeMs >= middle.totalTimeMs && middle.totalTimeMs >= hot.totalTimeMs, 'cumulative times nest');
  t.ok(top.totalPercent > 80, `topFunction cumulative ${top.totalPercent.toFixed(1)}%`);
  const cumulativeOrder = stats.sort('cumulative').entries.map((e) => e.functionName);
  t.ok(
    cumulativeOrder.indexOf('hotFunction') < cumulativeOrder.indexOf('leafFunction'),
    'hot before leaf by cumulative time',
  );
  t.equal(only(stats, 'leafFunction').line, tsLine('export function leafFunction'));

  const unmapped = profile.filter({ sourceMaps: false }).stats();
  t.not(only(unmapped, 'hotFunction').line, hot.line, 'without source maps the generated line differs');

  // callers / callees of the live graph
  const names = (rs: { function: FunctionStats }[]) => rs.map((r) => r.function.functionName).sort();
  t.same(names(profile.callers('leafFunction')), ['coldFunction', 'middleFunction']);
  t.same(names(profile.callees('middleFunction')), ['hotFunction', 'leafFunction']);
  t.same(names(profile.callers('hotFunction')), ['middleFunction']);
  t.same(names(profile.callees('topFunction')), ['coldFunction', 'middleFunction']);
  const leafByCallers = profile.callers('leafFunction').reduce((a, r) => a + r.samples, 0);
  t.equal(leafByCallers, only(stats, 'leafFunction').totalSamples, "callers' samples add up to the callee's");
  t.same(names(profile.callers(hot)), ['middleFunction'], 'a FunctionStats works as a reference');
});

/** Node 22 and later count a callee inlined into code optimized before a profile started as its caller. */
const INLINED_INTO_CALLER = Number(process.versions.node.split('.')[0]) >= 22;

t.test('the v8-profiler-next backend gives the same analysis', { skip: nativeProfilerMissing }, async (t) => {
  const { profile } = await cpuProfile(() => topFunction(UNITS, ROUNDS), {
    samplingIntervalUs: 500,
    backend: 'v8-profiler-next',
  });
  t.equal(profile.meta.backend, 'v8-profiler-next');
  const stats = profile.stats();
  const top = stats.sort('self').entries[0]!.functionName;
  if (INLINED_INTO_CALLER) {
    // The first test warmed these functions: on Node 22 and 24 V8 may count hotFunction, inlined into
    // middleFunction's optimized code before this profile started, as middleFunction (docs/cpu.md).
    t.ok(['hotFunction', 'middleFunction', 'topFunction'].includes(top), `the hot work is on top (${top})`);
  } else {
    t.equal(top, 'hotFunction');
  }
  if (stats.find('hotFunction').length) t.equal(only(stats, 'hotFunction').line, tsLine('export function hotFunction'));
  // Which caller a sample names depends on what V8 had inlined by then: on a loaded machine Node 20
  // also inlined middleFunction into topFunction. What must hold: the callers are the workload's.
  if (!stats.find('leafFunction').length) return;
  const callers = profile.callers('leafFunction').map((r) => r.function.functionName);
  t.ok(
    callers.length > 0 && callers.every((c) => ['coldFunction', 'middleFunction', 'topFunction'].includes(c)),
    `leafFunction's callers are the workload's (${callers.join(', ')})`,
  );
});

t.test(
  'v8-profiler-next cannot record two intervals at once: ProfilerBusyError',
  { skip: nativeProfilerMissing },
  async (t) => {
    const first = await startCpuProfile({ backend: 'v8-profiler-next', samplingIntervalUs: 1000 });
    try {
      await t.rejects(startCpuProfile({ backend: 'v8-profiler-next', samplingIntervalUs: 100 }), ProfilerBusyError);
      await t.rejects(startCpuProfile({ backend: 'v8-profiler-next', samplingIntervalUs: 100 }), {
        code: 'ERR_PROFILER_BUSY',
      });
      const same = await startCpuProfile({ backend: 'v8-profiler-next', samplingIntervalUs: 1000 });
      t.ok((await same.stop()).sampleCount >= 0, 'same interval may overlap');
    } finally {
      await first.stop();
    }
  },
);

t.test('inspector sessions may overlap; stop twice is a typed error', async (t) => {
  const a = await startCpuProfile({ samplingIntervalUs: 1000 });
  const b = await startCpuProfile({ samplingIntervalUs: 200 });
  topFunction(UNITS, 5);
  const pb = await b.stop();
  const pa = await a.stop();
  // topFunction, not hotFunction: on Node 22 and 24, V8 counts a callee inlined into code optimised before the
  // profile started (the earlier tests warmed these functions) as its caller, so hotFunction may not appear.
  const recorded = (p: typeof pa) => p.stats().find('topFunction')[0]?.totalSamples ?? 0;
  t.ok(recorded(pa) > 0 && recorded(pb) > 0, `both recorded the work (${recorded(pa)} and ${recorded(pb)} samples)`);
  t.ok(pb.sampleCount > pa.sampleCount, 'the finer session has more samples');
  t.equal(a.active, false);
  await t.rejects(a.stop(), ProfilerNotRunningError);
});

t.test('a throwing fn is rethrown unchanged and the profiler is released', async (t) => {
  const boom = new Error('boom');
  await t.rejects(
    cpuProfile(() => {
      throw boom;
    }),
    boom,
  );
  await t.rejects(
    cpuProfile(async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw boom;
    }),
    boom,
  );
  const { result } = await cpuProfile(() => 42);
  t.equal(result, 42);
});

t.test('maxDurationMs ends sampling by itself; stop() still returns what was recorded', async (t) => {
  const t0 = performance.now();
  const session = await startCpuProfile({ samplingIntervalUs: 500, maxDurationMs: 30 });
  topFunction(UNITS, 3);
  await new Promise((r) => setTimeout(r, 120));
  t.equal(session.truncated, true);
  t.equal(session.active, true, 'the recording waits for stop()');
  const elapsedBeforeLoop = performance.now() - t0;
  const after = Date.now();
  while (Date.now() - after < 150) hotAfterLimit();
  const profile = await session.stop();
  t.equal(profile.meta.truncated, true);
  t.ok(
    profile.stats().find('topFunction').length === 1,
    'work before the limit is there (its callees may be inlined, see above)',
  );
  t.equal(profile.stats().find('hotAfterLimit').length, 0, 'work after the limit is not');
  t.ok(
    profile.durationMs <= elapsedBeforeLoop,
    `recording lasted ${profile.durationMs.toFixed(0)} ms, not into the later loop`,
  );
  await t.rejects(session.stop(), ProfilerNotRunningError);
  await t.rejects(startCpuProfile({ maxDurationMs: 0 }), { code: 'ERR_INVALID_OPTION' });
});

function hotAfterLimit(): number {
  let x = 0;
  for (let i = 0; i < 10_000; i++) x += i % 7;
  return x;
}

t.test('options are validated', async (t) => {
  await t.rejects(startCpuProfile({ samplingIntervalUs: 0 }), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(startCpuProfile({ samplingIntervalUs: 1.5 }), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(startCpuProfile({ backend: 'gprof' as never }), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(startCpuProfile({ include: 5 as never }), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(startCpuProfile('fast' as never), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(cpuProfile('nope' as never), { code: 'ERR_INVALID_OPTION' });
});

t.test('a worker thread profiles itself', async (t) => {
  // A .ts worker entry needs tsx's loader hooks registered inside the worker (Node 20 does not
  // apply the parent's --import hooks to a worker's entry file).
  const entry = new URL('./fixtures/profile-in-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const worker = new Worker(
    `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    {
      eval: true,
      workerData: { units: UNITS, rounds: 15 },
    },
  );
  const msg = await new Promise<{ threadId: number; stats: { entries: FunctionStats[] } }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const workerThreadId = worker.threadId;
  await worker.terminate();
  t.equal(msg.threadId, workerThreadId);
  const names = msg.stats.entries.map((e) => e.functionName);
  t.ok(names.includes('hotFunction'), 'worker work is in the profile');
  t.notOk(
    msg.stats.entries.some((e) => e.file.endsWith('cpu-session.test.ts')),
    'the main thread is not',
  );
});
