// Refusals of `hangwatch dump` and friends: typed errors, exit codes, and targets left untouched.
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { runCli } from '../cli/run-cli.js';
import { isAlive, keepsRunning, ports, targetsStoppedAtEnd } from './target.js';

const target = targetsStoppedAtEnd(t);

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
  t.match(
    r.stderr,
    /did not open its inspector after SIGUSR1: its main thread opens it and has not run JavaScript since \(it is inside a native call\)\..* within 1000 ms \(ERR_ATTACH_TIMEOUT\)/,
  );
  t.ok(isAlive(x.pid));
});
