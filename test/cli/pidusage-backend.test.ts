// `hangwatch top` and the doctor's outside series through the pidusage backend, forced on Linux
// (HANGWATCH_PROCESS_SAMPLER=pidusage, and PIDUSAGE_USE_PS=true so that pidusage runs `ps` as it
// does on macOS instead of reading /proc itself).
import t from 'tap';
import { spawn } from 'node:child_process';
import type { DoctorReport } from '../../lib/report/doctor-report.js';
import { runCli } from './run-cli.js';

const env = { HANGWATCH_PROCESS_SAMPLER: 'pidusage', PIDUSAGE_USE_PS: 'true' };

t.test('top through pidusage', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const r = await runCli(['top', '--count', '2', '--interval', '200', '--json', String(child.pid)], { env });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.equal(lines[1].pid, child.pid);
  t.equal(lines[1].source, 'pidusage');
  t.ok(lines[1].rssBytes > 1e6, `rss ${lines[1].rssBytes}`);
  t.ok(lines[1].cpuPercent >= 0 && lines[1].cpuPercent < 100, `cpu ${lines[1].cpuPercent}%`);
  const text = await runCli(['top', '--count', '1', String(child.pid)], { env });
  t.match(
    text.stdout,
    new RegExp(`pid ${child.pid}\\s+\\?\\s+cpu\\s+[\\d.]+%\\s+rss`),
    'no name or state from ps: shown as blank and ?',
  );
});

t.test('top through pidusage: an unknown pid exits 1', async (t) => {
  const r = await runCli(['top', '--count', '1', String(2 ** 22 + 13)], { env });
  t.equal(r.code, 1);
  t.match(r.stderr, /no process with pid.*ERR_PROCESS_NOT_FOUND/);
});

t.test('a bad HANGWATCH_PROCESS_SAMPLER is a typed error, exit 1', async (t) => {
  const r = await runCli(['top', '--count', '1', String(process.pid)], { env: { HANGWATCH_PROCESS_SAMPLER: 'ps' } });
  t.equal(r.code, 1);
  t.match(r.stderr, /HANGWATCH_PROCESS_SAMPLER.*ERR_INVALID_OPTION/);
});

t.test('doctor: the outside series comes from pidusage', async (t) => {
  const r = await runCli(
    [
      'doctor',
      '--duration',
      '3',
      '--interval',
      '250',
      '--json',
      '--no-html',
      '--quiet',
      '--',
      process.execPath,
      '-e',
      'setInterval(() => {}, 100)',
    ],
    { env },
  );
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DoctorReport;
  t.equal(report.run.externalSource, 'pidusage');
  t.ok(report.run.external.length >= 4, `${report.run.external.length} outside samples`);
  t.ok(
    report.run.external.every((e) => e.rssBytes > 1e6 && e.cpuPercent >= 0),
    `RSS and CPU in each (${JSON.stringify(report.run.external.map((e) => [e.rssBytes, e.cpuPercent]))})`,
  );
});
