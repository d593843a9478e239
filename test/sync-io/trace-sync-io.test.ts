/**
 * `traceSyncIo()`: synchronous fs / child_process / zlib / crypto calls after start-up, aggregated
 * by call site (caller, count, total and max time); calls during start-up and hangwatch's own are
 * not counted; ESM named imports are traced too; stop() puts every function back.
 */
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import fs, { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { InvalidOptionError, SyncIoTracingError, traceSyncIo } from '../../lib/index.js';
import { renderSyncIoText } from '../../lib/report/index.js';

const thisFile = fileURLToPath(import.meta.url);
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function handleRequest(): void {
  for (let i = 0; i < 3; i++) readFileSync(thisFile); // READ-SITE
  gzipSync(Buffer.alloc(50_000)); // GZIP-SITE
  pbkdf2Sync('secret', 'salt', 2_000, 32, 'sha256'); // PBKDF2-SITE
  execFileSync(process.execPath, ['-e', '0']); // EXEC-SITE
}

t.test('calls after start-up are counted by call site; start-up calls are not', async (t) => {
  const tracer = traceSyncIo();
  t.teardown(() => tracer.stop());
  fs.readFileSync(thisFile); // during start-up: not counted
  await nextTurn();
  await nextTurn();
  handleRequest();
  handleRequest();
  const report = tracer.report();
  t.equal(report.schema, 'hangwatch.sync-io');
  const byCall = new Map(report.sites.map((s) => [s.call, s]));
  t.same([...byCall.keys()].sort(), [
    'child_process.execFileSync',
    'crypto.pbkdf2Sync',
    'fs.readFileSync',
    'zlib.gzipSync',
  ]);
  const read = byCall.get('fs.readFileSync')!;
  t.equal(read.count, 6, 'three reads per request, two requests; the start-up read is not counted');
  t.equal(read.caller.file, thisFile);
  t.equal(read.caller.functionName, 'handleRequest');
  t.match(read.caller.sourceLine, /READ-SITE/);
  t.match(byCall.get('zlib.gzipSync')!.caller.sourceLine, /GZIP-SITE/);
  t.match(byCall.get('crypto.pbkdf2Sync')!.caller.sourceLine, /PBKDF2-SITE/);
  const exec = byCall.get('child_process.execFileSync')!;
  t.equal(exec.count, 2);
  t.ok(exec.totalMs > 0 && exec.maxMs <= exec.totalMs, 'time inside the calls is measured');
  t.equal(report.totalCalls, 12);
  t.ok(report.sites[0]!.totalMs >= report.sites[report.sites.length - 1]!.totalMs, 'costliest first');
  const text = renderSyncIoText(report);
  t.match(text, /synchronous I\/O on the main thread after start-up: 12 calls/);
  t.match(
    text,
    /fs\.readFileSync ×6, [\d.]+ m?s total \(max [\d.]+ m?s\) in handleRequest \(.*trace-sync-io\.test\.ts:\d+\)/,
  );
});

t.test(
  'startupMs; stop() restores the functions (module objects and ESM named exports); one tracer at a time',
  async (t) => {
    const original = fs.readFileSync;
    const began = Date.now();
    const tracer = traceSyncIo({ startupMs: 1000 });
    t.not(fs.readFileSync, original, 'wrapped while tracing');
    t.equal(fs.readFileSync.name, 'readFileSync');
    t.throws(() => traceSyncIo(), SyncIoTracingError);
    await nextTurn();
    readFileSync(thisFile);
    if (Date.now() - began < 900) t.equal(tracer.report().totalCalls, 0, 'still start-up');
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() - began) + 50));
    readFileSync(thisFile);
    t.equal(tracer.report().totalCalls, 1, 'counted after startupMs (through the named import)');
    tracer.stop();
    tracer.stop();
    t.equal(fs.readFileSync, original, 'put back');
    const { readFileSync: named } = await import('node:fs');
    t.equal(named, original, 'the ESM named export is put back too');
    const again = traceSyncIo();
    again.stop();
    t.throws(() => traceSyncIo({ startupMs: -1 }), InvalidOptionError);
  },
);

t.test('a throwing sync call still counts and throws unchanged', async (t) => {
  const tracer = traceSyncIo();
  t.teardown(() => tracer.stop());
  await nextTurn();
  const err = t.throws(() => fs.readFileSync('/no/such/file')) as NodeJS.ErrnoException;
  t.equal(err.code, 'ENOENT');
  t.equal(tracer.report().sites[0]?.count, 1);
});

t.test(
  "hangwatch's own heap snapshot (its writer lives in native-free-fallbacks/) is not the program's sync I/O",
  async (t) => {
    const { writeHeapSnapshot } = await import('../../lib/index.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hangwatch-sync-io-own-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const tracer = traceSyncIo();
    t.teardown(() => tracer.stop());
    await nextTurn();
    await writeHeapSnapshot({ dir, backend: 'inspector', minFreeBytes: 0 });
    readFileSync(thisFile); // OWN-TEST-READ
    const sites = tracer.report().sites;
    t.same(
      sites.map((s) => `${s.call} ${s.caller.file}`),
      [`fs.readFileSync ${thisFile}`],
      "only the test's own read",
    );
  },
);
