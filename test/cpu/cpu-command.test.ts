// `hangwatch cpu`, run from source as a user would run the bin.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CpuProfile } from '../../lib/cpu/cpu-profile.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const busy = fileURLToPath(new URL('./fixtures/busy.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hangwatch-cpu-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Without tap's NODE_OPTIONS, so that its loader hooks do not run in every profiled child.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    execFile(
      process.execPath,
      ['--import', 'tsx', 'lib/cli/main.ts', ...args],
      { cwd: root, env, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

t.test('profiles a node command: table on stdout, .cpuprofile saved', async (t) => {
  const out = join(dir, 'busy.cpuprofile');
  const r = await cli(['cpu', '--out', out, '--sort', 'self', '--top', '3', '--', 'node', busy]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^total \d+/m, "the command's own output passes through");
  t.match(r.stdout, /Ordered by: internal time/);
  const lines = r.stdout.split('\n');
  const header = lines.findIndex((l) => l.includes('filename:lineno(function)'));
  const rows = lines.slice(header + 1).filter((l) => /^\s+\d+\s/.test(l));
  t.equal(rows.length, 3, '--top 3');
  // (a test runner may inject loader hooks into children; their waiting is node-internal)
  const userRows = rows.filter((l) => l.includes('busy.mjs'));
  t.match(userRows[0]!, /busy\.mjs:2\(spinHot\)$/, 'the hot function is the first row of the program, at its line');
  t.match(r.stderr, /profile saved to/);
  const loaded = (await CpuProfile.load(out)).filter({ include: [busy] });
  t.equal(
    loaded
      .stats()
      .sort('self')
      .entries.filter((e) => e.file)[0]!.functionName,
    'spinHot',
    'ahead of (filtered) time',
  );
});

t.test('a non-node command is profiled through the NODE_OPTIONS preload; exit code passes through', async (t) => {
  const out = join(dir, 'sh.pb.gz');
  const r = await cli([
    'cpu',
    '--json',
    '--out',
    out,
    '--interval',
    '500',
    '--',
    'sh',
    '-c',
    `"${process.execPath}" "${busy}" fail`,
  ]);
  t.equal(r.code, 3, "the command's exit code");
  const json = JSON.parse(
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop()!,
  );
  t.equal(json.exitCode, 3);
  t.same(json.profiles, [out]);
  t.ok(existsSync(out));
  t.same([...readFileSync(out).subarray(0, 2)], [0x1f, 0x8b], 'pprof by extension');
  t.equal(json.stats.summary.samplingIntervalUs, 500);
  t.ok(
    json.stats.entries.some((e: { functionName: string }) => e.functionName === 'spinHot'),
    'spinHot in the stats',
  );
});

t.test('a node command with a worker: the main thread is reported, the worker saved next to it', async (t) => {
  const out = join(dir, 'threads.cpuprofile');
  const r = await cli([
    'cpu',
    '--json',
    '--top',
    '0',
    '--out',
    out,
    '--',
    'node',
    fileURLToPath(new URL('./fixtures/busy-worker.mjs', import.meta.url)),
  ]);
  t.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
  // main + worker (+ a loader-hooks thread when a test runner injects hooks into children)
  t.equal(json.profiles[0], out);
  t.ok(json.profiles.length >= 2, `${json.profiles.length} profiles saved`);
  t.equal(json.profiles[1], join(dir, 'threads.2.cpuprofile'));
  const names = (e: Array<{ functionName: string }>) => e.map((x) => x.functionName);
  t.ok(names(json.stats.entries).includes('mainSpin'), 'printed stats are the main thread');
  t.notOk(names(json.stats.entries).includes('workerSpin'));
  const others = await Promise.all(json.profiles.slice(1).map((f: string) => CpuProfile.load(f)));
  t.equal(others.filter((p) => p.stats().find('workerSpin').length === 1).length, 1, 'the worker profile is saved too');
});

t.test('help and argument errors', async (t) => {
  const help = await cli(['cpu', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: hangwatch cpu/);
  for (const bad of [
    ['cpu'],
    ['cpu', '--sort', 'fast', '--', 'node', '-v'],
    ['cpu', '--top', '-1', '--', 'node'],
    ['cpu', '--bogus', '--', 'node'],
    ['nope'],
  ]) {
    const r = await cli(bad);
    t.equal(r.code, 2, bad.join(' '));
    t.match(r.stderr, /Usage: hangwatch/);
  }
  const top = await cli(['--help']);
  t.equal(top.code, 0);
  t.match(top.stdout, /cpu/);
});

t.test('a command that starts no Node process fails with exit 1', async (t) => {
  const r = await cli(['cpu', '--out', join(dir, 'none.cpuprofile'), '--', 'true']);
  t.equal(r.code, 1);
  t.match(r.stderr, /produced no CPU profile/);
});
