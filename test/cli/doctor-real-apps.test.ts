// The doctor on a program shaped like a real application: a cache that grows slowly, and the
// same cache bounded, with and without heap snapshots (express-session: doctor-session-store.test.ts).
// (Apart from doctor.test.ts so that each file stays within tap's per-file timeout.)
import t from 'tap';
import { assertLoaded, blamesHangwatch, doctor, kinds } from './doctor-helpers.js';

for (const snapshots of [false, true]) {
  const extra = snapshots ? ['--no-html', '--heap-snapshots'] : ['--no-html'];
  const label = snapshots ? ' (with --heap-snapshots)' : '';
  t.test(`a cache growing ~5 MB/min in a ~30 MB heap: memory leak${label}`, async (t) => {
    const report = await doctor('cache-server.mjs', extra, ['leak'], 15);
    assertLoaded(t, report);
    const leak = report.diagnosis.findings.find((f) => f.kind === 'memory-leak');
    t.ok(
      leak,
      `leak found (${kinds(report).join(', ')}; live heap ${report.run.samples
        .filter((s) => s.liveHeapBytes)
        .map((s) => ((s.liveHeapBytes as number) / 1e6).toFixed(2))
        .join(' ')})`,
    );
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
    if (snapshots) {
      t.ok(
        report.diagnosis.hangwatchPauses.some((p) => p.reason === 'heap-snapshot'),
        `the snapshots are listed as hangwatch's pauses (${report.diagnosis.hangwatchPauses.map((p) => p.text).join('; ')})`,
      );
      if (report.run.heapSnapshots.length >= 2)
        t.ok(
          report.diagnosis.growingConstructors?.some((c) => c.name === 'CacheEntry'),
          'CacheEntry among the growing constructors',
        );
    }
  });
  t.test(`the same server with its cache bounded: no leak${label}`, async (t) => {
    const report = await doctor('cache-server.mjs', extra, ['bounded'], 15);
    assertLoaded(t, report);
    t.notOk(
      kinds(report).includes('memory-leak'),
      `no leak (${kinds(report).join(', ')}; live heap ${report.run.samples
        .filter((s) => s.liveHeapBytes)
        .map((s) => ((s.liveHeapBytes as number) / 1e6).toFixed(2))
        .join(' ')})`,
    );
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
    if (snapshots && report.run.heapSnapshots.length >= 2)
      t.ok(report.diagnosis.growingConstructors?.length, 'growing constructors shown without a leak finding');
  });
}
