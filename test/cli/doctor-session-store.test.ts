// The doctor on a real Express app with express-session's default MemoryStore, which keeps every
// session: one growing collection of thousands of small entries. (Apart from the other doctor
// tests so that each file stays within tap's per-file timeout.)
//
// These once stalled at start-up under parallel load (no sample in 15 s; the program did not end
// on SIGINT): run from source, the preload brings tsx into the program, and esbuild's synchronous
// worker thread left the main thread waiting forever inside tsx's require hook while a cold compile
// cache made Express's start-up long. Source mode now turns that worker off (preload-location.ts).
import t from 'tap';
import { isHangwatchFile } from '../../lib/capture/own-files.js';
import { assertLoaded, blamesHangwatch, doctor, kinds } from './doctor-helpers.js';

for (const snapshots of [false, true]) {
  const extra = snapshots ? ['--no-html', '--heap-snapshots'] : ['--no-html'];
  const label = snapshots ? ' (with --heap-snapshots)' : '';
  t.test(`express + express-session MemoryStore under load: memory leak${label}`, async (t) => {
    // Without the snapshots, as in a fresh clone: tsx's compile cache off (start-up is then long,
    // as it was when the stall was seen).
    const report = await doctor('session-store-server.mjs', extra, [], 15, snapshots ? {} : { TSX_DISABLE_CACHE: '1' });
    assertLoaded(t, report);
    t.ok(kinds(report).includes('memory-leak'), kinds(report).join(', '));
    t.notOk(blamesHangwatch(report), "no blocking blamed on hangwatch's own snapshot");
    const ownSyncIo = (report.diagnosis.syncIo?.sites ?? []).filter((s) => isHangwatchFile(s.caller.file));
    t.same(ownSyncIo, [], "no synchronous I/O of hangwatch's own (the snapshot writer) blamed on the program");
  });
}
