// `hangwatch heap snapshot <pid>` and `hangwatch cpu --pid`: files that load, the target's own class and hot function.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CpuProfile } from '../../lib/cpu/cpu-profile.js';
import { loadHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import { runCli } from '../cli/run-cli.js';
import { isAlive, keepsRunning, ports, ROOT, startTarget, type Target } from './target.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-attach-'));
const targets: Target[] = [];
t.teardown(() => {
  targets.forEach((x) => x.stop());
  rmSync(dir, { recursive: true, force: true });
});

t.test('heap snapshot of a running process', async (t) => {
  const x = await startTarget('attach-heap.mjs');
  targets.push(x);
  const file = join(dir, 'target.heapsnapshot');
  const r = await runCli(['heap', 'snapshot', String(x.pid), '-o', file, '--progress']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `${file}: `);
  t.match(r.stderr, `process ${x.pid} → ${file}`);
  t.same(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'no temp file is left',
  );
  const snapshot = await loadHeapSnapshot(file);
  const own = snapshot.summary().find((row) => row.className === 'AttachProbeRecord');
  t.equal(own?.count, 2000, "the target's own class, every instance");
  t.ok(isAlive(x.pid));
  t.same(await ports(x.pid), x.portsBefore);
  t.ok(await keepsRunning(x.pid, 5));
});

t.test('cpu --pid: the table names the hot function, the profile loads', async (t) => {
  const x = await startTarget('attach-heap.mjs');
  targets.push(x);
  const out = join(dir, 'target.cpuprofile');
  const r = await runCli(['cpu', '--pid', String(x.pid), '--duration', '2', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /filename:lineno\(function\)/);
  t.match(r.stdout, /attach-heap\.mjs:\d+\(burnCpuForProfile\)/);
  t.match(r.stderr, `profile saved to ${out}`);
  const profile = await CpuProfile.load(out);
  t.ok(profile.durationMs >= 1500, `recorded for the duration (${profile.durationMs} ms)`);
  t.ok(profile.stats().entries.some((e) => e.functionName === 'burnCpuForProfile'));
  const json = await runCli([
    'cpu',
    '--pid',
    String(x.pid),
    '--duration',
    '1',
    '--json',
    '--out',
    join(dir, 'second.cpuprofile'),
  ]);
  t.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  t.equal(parsed.pid, x.pid);
  t.ok(parsed.stats.entries.some((e: { functionName: string }) => e.functionName === 'burnCpuForProfile'));
  t.ok(existsSync(join(dir, 'second.cpuprofile')));
  t.ok(isAlive(x.pid));
  t.same(await ports(x.pid), x.portsBefore);
  t.ok(await keepsRunning(x.pid, 5));
});

t.test('Ctrl-C of cpu --pid: stops early, reports what it recorded, leaves the target as it was', async (t) => {
  const x = await startTarget('attach-heap.mjs');
  targets.push(x);
  const out = join(dir, 'interrupted.cpuprofile');
  const child = spawn(
    'env',
    [
      '-u',
      'NODE_OPTIONS',
      process.execPath,
      '--import',
      'tsx',
      'lib/cli/main.ts',
      'cpu',
      '--pid',
      String(x.pid),
      '--duration',
      '600',
      '--json',
      '--out',
      out,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Interrupt once the profiler runs: the target's inspector listens (a port beyond its own).
  const deadline = Date.now() + 60_000;
  while ((await ports(x.pid)).length === x.portsBefore.length && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  t.equal(report.truncated, true, 'the recording ended early');
  t.ok(existsSync(out));
  t.ok(isAlive(x.pid));
  t.same(await ports(x.pid), x.portsBefore);
  t.ok(await keepsRunning(x.pid, 5));
});
