// A deadline timer that runs late is not proof of a blocked loop: the process may not have run.
import t from 'tap';
import { threadCpuClock } from '../../lib/loop/thread-cpu.js';
import { fixture, runFixture } from '../helpers.js';

t.test(
  'a deadline timer late because the process was not running (SIGSTOP) reports a free loop, not a blocked one',
  { skip: process.platform === 'win32' ? 'no SIGSTOP on Windows' : false },
  async (t) => {
    const res = await runFixture(fixture('hang-while-stopped.ts'), { timeoutMs: 60_000 });
    t.equal(res.code, 0, res.stderr);
    const reports = JSON.parse(res.stdout) as { kind: string; lateByMs: number; stackUnavailable?: string }[];
    t.equal(reports.length, 1, `one report (${res.stdout})`);
    if (!threadCpuClock()) {
      t.pass('no thread CPU clock here: a late timer still reads as a blocked loop');
      return;
    }
    t.ok((reports[0]?.lateByMs ?? 0) > 100, `the timer ran late (${reports[0]?.lateByMs} ms)`);
    t.equal(reports[0]?.kind, 'pending', `the loop was free; the process was stopped (${JSON.stringify(reports[0])})`);
  },
);
