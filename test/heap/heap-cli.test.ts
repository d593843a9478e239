import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLeakyProgram } from './helpers/run-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'lib/cli/main.ts', ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

t.test('hangwatch heap summary / diff / leaks', async (t) => {
  const f = await runLeakyProgram('map', dir);

  const summary = await cli(['heap', 'summary', f.final, '--top', '5']);
  t.equal(summary.code, 0, summary.stderr);
  t.match(summary.stdout, /nodes, \d+ edges/);
  t.match(summary.stdout, /Constructor\s+Count\s+Self size\s+Retained size/);
  t.equal(summary.stdout.trim().split('\n').length, 2 + 2 + 5, 'header, blank, table head, rule, 5 rows');
  t.equal(summary.stderr, '', 'no progress for small files when not asked');

  const json = await cli(['heap', 'summary', f.final, '--json']);
  const body = JSON.parse(json.stdout) as {
    schema: string;
    nodeCount: number;
    classes: { className: string; count: number }[];
  };
  t.equal(body.schema, 'hangwatch.heap.summary/1');
  t.equal(body.classes.find((c) => c.className === 'LeakyObject')!.count, 400);

  const diff = await cli(['heap', 'diff', f.baseline, f.target, '--json', '--progress']);
  t.equal(diff.code, 0);
  const d = JSON.parse(diff.stdout) as { classes: { className: string; newCount: number }[] };
  t.equal(d.classes.find((c) => c.className === 'LeakyObject')!.newCount, 200);
  t.equal(d.classes.find((c) => c.className === 'TransientThing')!.newCount, 300);
  t.match(diff.stderr, /reading before .*100%/, 'progress on stderr when asked');

  const retained = await cli(['heap', 'diff', f.baseline, f.target, '--retained', '--top', '3']);
  t.equal(retained.code, 0, retained.stderr);
  t.match(retained.stdout, /Size delta\s+Retained by new/);
  const r = await cli(['heap', 'diff', f.baseline, f.target, '--retained', '--json']);
  const rows = (
    JSON.parse(r.stdout) as { classes: { className: string; sizeDelta: number; newRetainedSize: number }[] }
  ).classes;
  const leaky = rows.find((c) => c.className === 'LeakyObject')!;
  t.ok(
    leaky.newRetainedSize > leaky.sizeDelta,
    `LeakyObject retains its data arrays (${leaky.newRetainedSize} > ${leaky.sizeDelta})`,
  );

  const leaks = await cli(['heap', 'leaks', f.baseline, f.target, f.final]);
  t.equal(leaks.code, 0, leaks.stderr);
  t.match(leaks.stdout, /#1 LeakyObject ×200/);
  t.match(leaks.stdout, /Context \(context cache\) \/ Map\.table \/ \(array\)\[\d+\] \/ LeakyObject/);
  t.match(leaks.stdout, /holds: Array ×200/);

  const leaksJson = await cli(['heap', 'leaks', f.baseline, f.target, f.final, '--json']);
  const l = JSON.parse(leaksJson.stdout) as { schema: string; clusters: { name: string; count: number }[] };
  t.equal(l.schema, 'hangwatch.heap.leaks/1');
  t.same([l.clusters[0]!.name, l.clusters[0]!.count], ['LeakyObject', 200]);
});

t.test('usage errors exit 2, failures exit 1', async (t) => {
  const help = await cli(['heap', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /hangwatch heap leaks BASELINE TARGET FINAL/);
  for (const args of [
    ['heap'],
    ['heap', 'frobnicate'],
    ['heap', 'diff', 'a'],
    ['heap', 'summary', 'a', '--top', 'x'],
    ['heap', 'summary', 'a', '--bogus'],
    ['nope'],
  ]) {
    const r = await cli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /usage/i);
  }
  const junk = join(dir, 'junk.heapsnapshot');
  writeFileSync(junk, '{"snapshot":{"meta":');
  const r = await cli(['heap', 'summary', junk]);
  t.equal(r.code, 1);
  t.match(r.stderr, /truncated.*byte offset 20/);
  const missing = await cli(['heap', 'summary', join(dir, 'missing')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read heap snapshot/);
});
