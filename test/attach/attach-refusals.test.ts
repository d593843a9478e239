// Refusals of `hangwatch dump` and friends: typed errors, exit codes, and targets left untouched.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { runCli } from '../cli/run-cli.js';
import { isAlive, keepsRunning, ports, startTarget, type Target } from './target.js';

const targets: Target[] = [];
t.teardown(() => targets.forEach((x) => x.stop()));
async function target(name: string, nodeArgs?: string[]): Promise<Target> {
  const x = await startTarget(name, nodeArgs);
  targets.push(x);
  return x;
}

t.test('no such process: ERR_PROCESS_NOT_FOUND, exit 1', async (t) => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  for (const args of [['dump', String(pidMax + 1)], ['heap', 'snapshot', String(pidMax + 1)], ['cpu', '--pid', String(pidMax + 1), '--duration', '1']]) {
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
  t.match(r.stderr, /is not a Node\.js process hangwatch can attach to: its executable is sleep, not node \(ERR_NOT_NODE_PROCESS\)/);
  t.ok(isAlive(sleeper.pid!), 'sleep was not killed by a SIGUSR1');
});

t.test('bad arguments: exit 2 with the usage', async (t) => {
  for (const args of [['dump'], ['dump', 'abc'], ['dump', '1', '2'], ['heap', 'snapshot', '-5'], ['cpu', '--pid', 'x'], ['cpu', '--duration', '2', '--', 'node', '-e', '0']]) {
    const r = await runCli(args);
    t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

t.test('the inspector port is taken by another process: ERR_INSPECTOR_PORT_TAKEN', async (t) => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const x = await target('attach-spin.mjs', [`--inspect-port=${port}`]);
  const r = await runCli(['dump', String(x.pid)]);
  t.equal(r.code, 1);
  t.match(r.stderr, `could not open its inspector: port ${port} is taken by another process`);
  t.match(r.stderr, '(ERR_INSPECTOR_PORT_TAKEN)');
  t.ok(isAlive(x.pid));
  t.same(await ports(x.pid), x.portsBefore);
  t.ok(await keepsRunning(x.pid));
});

t.test('a main thread inside a native call longer than --timeout: ERR_ATTACH_TIMEOUT saying so', async (t) => {
  const x = await target('attach-exec-sync.mjs');
  await new Promise((r) => setTimeout(r, 200));
  const r = await runCli(['dump', '--timeout', '1', String(x.pid)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /did not open its inspector after SIGUSR1: its main thread opens it and has not run JavaScript since \(it is inside a native call\)\..* within 1000 ms \(ERR_ATTACH_TIMEOUT\)/);
  t.ok(isAlive(x.pid));
});
