import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createProcessUsageReader } from '../../lib/capture/process-usage.js';
import { PidusageUsageReader } from '../../lib/capture/pidusage-process-usage.js';
import { sampleProcess } from '../../lib/process/sample-process.js';
import { ProcessNotFoundError } from '../../lib/process/errors.js';
import { InvalidOptionError } from '../../lib/errors.js';
import { parseProcStat, ProcfsUsageReader, procfsAvailable } from '../../native-free-fallbacks/procfs-process-usage.js';

const SPIN = 'console.log("ready"); for(;;){}';
const SLEEP = 'console.log("ready"); setTimeout(()=>{}, 60000)';

/** Node children running `code`, killed at the end of the test, once each has said it started (so that its startup CPU stays out of what is measured). */
async function children(t: Test, ...codes: string[]): Promise<ChildProcess[]> {
  const started = codes.map((code) => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] }));
  t.teardown(() => started.forEach((c) => c.kill('SIGKILL')));
  await Promise.all(started.map((c) => new Promise((r) => c.stdout?.once('data', r))));
  await new Promise((r) => setTimeout(r, 200));
  return started;
}

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
  const text =
    '4242 (my (odd) name) S 1 4242 4242 0 -1 4194304 102 0 0 0 250 50 0 0 20 0 7 0 43081 3133440 388 18446744073709551615';
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

t.test(
  'another process through /proc: a spinning child uses about one core, a sleeping one none',
  { skip: procfsAvailable() ? false : 'no /proc on this platform' },
  async (t) => {
    const [spin, idle] = (await children(t, SPIN, SLEEP)) as [ChildProcess, ChildProcess];
    const reader = new ProcfsUsageReader();
    // The oracle: the kernel's run time of every thread of the child, in ns (schedstat), over the
    // same window. On a loaded 2-core machine a spinning child may get only a few % of a core, so
    // the reading is checked against what the child really got, not against one core.
    const runNs = (pid: number): number =>
      readdirSync(`/proc/${pid}/task`).reduce(
        (sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]),
        0,
      );
    const pid = spin.pid as number;
    const ran0 = runNs(pid);
    const t0 = performance.now();
    await reader.read(pid);
    await reader.read(idle.pid as number);
    await new Promise((r) => setTimeout(r, 1000));
    const busy = await reader.read(pid);
    const t1 = performance.now();
    const ran1 = runNs(pid);
    const quiet = await reader.read(idle.pid as number);
    const oracle = ((ran1 - ran0) / 1e6 / (t1 - t0)) * 100;
    // utime/stime are counted in 10 ms clock ticks, by sampling: allow 5 points or a third of it.
    t.ok(
      Math.abs(busy.cpuPercent - oracle) <= Math.max(5, oracle / 3),
      `spinning child ${busy.cpuPercent.toFixed(1)}%, the kernel's run time ${oracle.toFixed(1)}%`,
    );
    t.ok(quiet.cpuPercent < 5, `sleeping child ${quiet.cpuPercent.toFixed(1)}%`);
    t.ok(busy.cpuPercent > quiet.cpuPercent, 'spinning above sleeping');
    t.ok(busy.rssBytes > 5e6);
    t.equal(busy.name, 'node');
    const viaApi = await sampleProcess(idle.pid as number);
    t.equal(viaApi.source, 'procfs');
    t.equal(viaApi.pid, idle.pid);
    t.ok(viaApi.elapsedMs > 200);
  },
);

t.test('bad and unknown pids', async (t) => {
  await t.rejects(sampleProcess(-3), InvalidOptionError);
  await t.rejects(sampleProcess(1.5), InvalidOptionError);
  await t.rejects(sampleProcess(2 ** 22 + 7), ProcessNotFoundError);
  t.equal((await sampleProcess(process.pid)).source, 'in-process', 'its own pid: sampled from inside');
});

t.test(
  'the pidusage backend, through ps as on macOS, agrees with /proc on a busy child',
  { skip: procfsAvailable() ? false : 'no /proc to compare with' },
  async (t) => {
    const [spin] = (await children(t, SPIN)) as [ChildProcess];
    const pid = spin.pid as number;
    const procfs = new ProcfsUsageReader();
    const pidusage = new PidusageUsageReader({ usePs: true });
    t.equal(pidusage.source, 'pidusage');
    await Promise.all([procfs.read(pid), pidusage.read(pid)]);
    await new Promise((r) => setTimeout(r, 4000));
    const [p, q] = await Promise.all([procfs.read(pid), pidusage.read(pid)]);
    // ps prints CPU time in whole seconds on Linux: over 4 s that is up to 25 points of CPU % off,
    // and the two readings are a few ms apart. Generous bounds: a 2-core machine, maybe loaded.
    t.ok(
      Math.abs(q.cpuPercent - p.cpuPercent) <= 40,
      `CPU: pidusage ${q.cpuPercent.toFixed(0)}%, /proc ${p.cpuPercent.toFixed(0)}%`,
    );
    t.ok(Math.abs(q.cpuTimeMs - p.cpuTimeMs) <= 1200, `CPU time: pidusage ${q.cpuTimeMs} ms, /proc ${p.cpuTimeMs} ms`);
    t.ok(
      q.rssBytes > 5e6 && Math.abs(q.rssBytes - p.rssBytes) <= Math.max(0.2 * p.rssBytes, 4e6),
      `RSS: pidusage ${q.rssBytes}, /proc ${p.rssBytes}`,
    );
    t.ok(
      Math.abs(q.elapsedMs - p.elapsedMs) <= 1500,
      `elapsed: pidusage ${q.elapsedMs} ms, /proc ${p.elapsedMs.toFixed(0)} ms`,
    );
    t.equal(q.ppid, process.pid);
    await t.rejects(pidusage.read(2 ** 22 + 9), ProcessNotFoundError);
  },
);

t.test('the backend is chosen by HANGWATCH_PROCESS_SAMPLER, else /proc where it exists', async (t) => {
  t.equal(createProcessUsageReader('pidusage').source, 'pidusage');
  t.equal(createProcessUsageReader('procfs').source, 'procfs');
  t.equal(createProcessUsageReader('auto').source, procfsAvailable() ? 'procfs' : 'pidusage');
  t.throws(() => createProcessUsageReader('ps'), {
    code: 'ERR_INVALID_OPTION',
    message: /HANGWATCH_PROCESS_SAMPLER.*one of auto, procfs, pidusage/,
  });
});
