// Refusals of `hangwatch dump` and friends: typed errors, exit codes, and targets left untouched.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { WebSocketClient } from '../../lib/attach/websocket-client.js';
import { listeningPorts } from '../../lib/attach/process-sockets.js';
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

/** A target started with --inspect on a free port, and that port. */
async function inspectedTarget(): Promise<{ x: Target; port: number; url: string }> {
  const x = await target('attach-idle-server.mjs', ['--inspect=127.0.0.1:0']);
  const httpPort = Number(x.ready.split(' ')[1]);
  const port = (await listeningPorts(x.pid)).map((s) => s.port).find((p) => p !== httpPort)!;
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  return { x, port, url: list[0]!.webSocketDebuggerUrl };
}

t.test('a debugger is attached: ERR_DEBUGGER_ATTACHED, the debugger keeps its session', async (t) => {
  const { x, url } = await inspectedTarget();
  let closed = false;
  const client = await WebSocketClient.connect(url, { onMessage: () => {}, onClose: () => (closed = true) }, 10_000);
  t.teardown(() => client.close());
  const r = await runCli(['dump', String(x.pid)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /already has a debugger attached to its inspector on port \d+; detach it first \(ERR_DEBUGGER_ATTACHED\)/);
  t.notOk(closed, "the debugger's connection is untouched");
  t.same(await ports(x.pid), x.portsBefore, 'its inspector still listens, nothing else does');
});

t.test('an inspector already open without a client is used and left open', async (t) => {
  const { x, port } = await inspectedTarget();
  const r = await runCli(['dump', '--json', String(x.pid)]);
  t.equal(r.code, 0, r.stderr);
  const dump = JSON.parse(r.stdout);
  t.equal(dump.inspectorPort, port);
  t.equal(dump.openedInspector, false);
  t.match(r.stderr, `already has its inspector open on port ${port}; using it (it stays open)`);
  t.same(await ports(x.pid), x.portsBefore, 'its inspector still listens (as before), nothing else does');
});

t.test('the default port (no --inspect-port): 9229, or a clear refusal when someone holds it', async (t) => {
  const x = await target('attach-spin.mjs', []);
  const r = await runCli(['dump', String(x.pid)]);
  if (r.code === 0) {
    t.match(r.stdout, 'in spinInNamedFunction');
  } else {
    // Another process on this shared machine held 9229.
    t.equal(r.code, 1);
    t.match(r.stderr, 'port 9229 is taken by another process (ERR_INSPECTOR_PORT_TAKEN)');
  }
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
