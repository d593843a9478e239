// Bad input to `hangwatch dump` and friends: no such process, not a Node process, bad arguments.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../cli/run-cli.js';
import { isAlive } from './target.js';
t.test('no such process: ERR_PROCESS_NOT_FOUND, exit 1', async (t) => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  for (const args of [
    ['dump', String(pidMax + 1)],
    ['heap', 'snapshot', String(pidMax + 1)],
    ['cpu', '--pid', String(pidMax + 1), '--duration', '1'],
  ]) {
    const r = await runCli(args);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, `no process with pid ${pidMax + 1} (ERR_PROCESS_NOT_FOUND)`);
  }
});

t.test('a process that is not Node: ERR_NOT_NODE_PROCESS, and it is not signalled', async (t) => {
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill('SIGKILL'));
  const r = await runCli(['dump', String(sleeper.pid)]);
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /is not a Node\.js process hangwatch can attach to: its executable is sleep, not node \(ERR_NOT_NODE_PROCESS\)/,
  );
  t.ok(isAlive(sleeper.pid!), 'sleep was not killed by a SIGUSR1');
});

t.test('bad arguments: exit 2 with the usage', async (t) => {
  for (const args of [
    ['dump'],
    ['dump', 'abc'],
    ['dump', '1', '2'],
    ['heap', 'snapshot', '-5'],
    ['cpu', '--pid', 'x'],
    ['cpu', '--duration', '2', '--', 'node', '-e', '0'],
  ]) {
    const r = await runCli(args);
    t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});
