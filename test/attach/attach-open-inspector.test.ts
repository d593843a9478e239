// Targets whose inspector is already open (a debugger attached: refused; none: used and left open), and the default port.
import t from 'tap';
import { WebSocketClient } from '../../lib/attach/websocket-client.js';
import { listeningPorts } from '../../lib/attach/process-sockets.js';
import { runCli } from '../cli/run-cli.js';
import { isAlive, keepsRunning, ports, targetsStoppedAtEnd, type Target } from './target.js';

const target = targetsStoppedAtEnd(t);

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
  t.match(
    r.stderr,
    /already has a debugger attached to its inspector on port \d+; detach it first \(ERR_DEBUGGER_ATTACHED\)/,
  );
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
