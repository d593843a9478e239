// The doctor on a real Express app with express-session's default MemoryStore, which keeps every
// session: one growing collection of thousands of small entries. (Apart from the other doctor
// tests so that each file stays within tap's per-file timeout.)
import t from 'tap';
import { assertLoaded, blamesHangwatch, doctor, kinds } from './doctor-helpers.js';

// Known problem, not hidden: on a quiet machine both variants pass, but in a CI run with another
// test file beside it the program once sent no sample in 15 s, and the snapshot variant did not end
// in 60 s. Until that start-up stall is understood these run and report without failing the suite.
const TODO = 'the MemoryStore app under the doctor stalls at start-up under parallel load (0 samples in 15 s seen in CI)';

for (const snapshots of [false, true]) {
  const extra = snapshots ? ['--no-html', '--heap-snapshots'] : ['--no-html'];
  const label = snapshots ? ' (with --heap-snapshots)' : '';
  t.test(`express + express-session MemoryStore under load: memory leak${label}`, { todo: TODO }, async (t) => {
    const report = await doctor('session-store-server.mjs', extra, [], 15);
    assertLoaded(t, report);
    t.ok(kinds(report).includes('memory-leak'), kinds(report).join(', '));
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
  });
}
