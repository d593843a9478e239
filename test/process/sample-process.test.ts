import t from 'tap';
import { spawn } from 'node:child_process';
import { sampleProcess } from '../../lib/process/sample-process.js';
import { ProcessNotFoundError } from '../../lib/process/errors.js';
import { InvalidOptionError } from '../../lib/errors.js';
import { parseProcStat, ProcfsUsageReader, procfsAvailable } from '../../native-free-fallbacks/procfs-process-usage.js';

t.test('this process, from inside: memory, heap and handles', async (t) => {
  const before = process.cpuUsage();
  sampleProcess();
  const end = Date.now() + 150;
  while (Date.now() < end); // burn CPU so that the second sample shows it
  const s = sampleProcess();
  const used = process.cpuUsage(before);
  // The sample's window lies inside the measured one and lasts at least the 150 ms spin, so its
  // CPU % cannot exceed this bound (the machine may be loaded: no lower bound beyond "it shows").
  const upper = ((used.user + used.system) / 1000 / 150) * 100;
  t.ok(s.cpuPercent <= upper + 1, `cpu ${s.cpuPercent.toFixed(1)}% ≤ ${upper.toFixed(1)}%`);
  t.ok(s.cpuPercent > 1, 'spinning shows');
  t.ok(s.rssBytes > 10e6);
  t.ok((s.heapUsedBytes ?? 0) > 0 && (s.heapTotalBytes ?? 0) >= (s.heapUsedBytes ?? 0));
  t.type(s.activeHandles, 'number');
});

t.test('parseProcStat handles names with spaces and parentheses', async (t) => {
  const text = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194304 102 0 0 0 250 50 0 0 20 0 7 0 43081 3133440 388 18446744073709551615';
  const p = parseProcStat(text);
  t.equal(p.name, 'my (odd) name');
  t.equal(p.state, 'S');
  t.equal(p.ppid, 1);
  t.equal(p.utime, 250);
  t.equal(p.stime, 50);
  t.equal(p.threads, 7);
  t.equal(p.starttime, 43081);
  t.equal(p.vsize, 3133440);
  t.equal(p.rssPages, 388);
});

t.test('another process through /proc: a spinning child uses about one core, a sleeping one none', { skip: procfsAvailable() ? false : 'no /proc on this platform' }, async (t) => {
  // Each child says when it has started, so that its startup CPU stays out of the measured second.
  const spin = spawn(process.execPath, ['-e', 'console.log("ready"); for(;;){}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const idle = spawn(process.execPath, ['-e', 'console.log("ready"); setTimeout(()=>{}, 60000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => {
    spin.kill('SIGKILL');
    idle.kill('SIGKILL');
  });
  await Promise.all([spin, idle].map((c) => new Promise((r) => c.stdout?.once('data', r))));
  await new Promise((r) => setTimeout(r, 200));
  const reader = new ProcfsUsageReader();
  reader.read(spin.pid as number);
  reader.read(idle.pid as number);
  await new Promise((r) => setTimeout(r, 1000));
  const busy = reader.read(spin.pid as number);
  const quiet = reader.read(idle.pid as number);
  // Generous: on a loaded 2-core machine a spinning child may get a fraction of a core.
  t.ok(busy.cpuPercent > 10, `spinning child ${busy.cpuPercent.toFixed(0)}%`);
  t.ok(quiet.cpuPercent < 5, `sleeping child ${quiet.cpuPercent.toFixed(1)}%`);
  t.ok(busy.cpuPercent > 3 * quiet.cpuPercent + 5, 'spinning clearly above sleeping');
  t.ok(busy.rssBytes > 5e6);
  t.equal(busy.name, 'node');
  const viaApi = sampleProcess(idle.pid as number);
  t.equal(viaApi.source, 'procfs');
  t.equal(viaApi.pid, idle.pid);
  t.ok(viaApi.elapsedMs > 200);
});

t.test('bad and unknown pids', async (t) => {
  t.throws(() => sampleProcess(-3), InvalidOptionError);
  t.throws(() => sampleProcess(1.5), InvalidOptionError);
  if (procfsAvailable()) t.throws(() => sampleProcess(2 ** 22 + 7), ProcessNotFoundError);
});
