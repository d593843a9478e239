// `hangwatch dump <pid>`: an idle loop and what it waits on, worker threads, source maps; each target left as it was.
import t from 'tap';
import { runCli } from '../cli/run-cli.js';
import { httpGet, keepsRunning, leftAsItWas, targetsStoppedAtEnd } from './target.js';

const target = targetsStoppedAtEnd(t);

t.test('an idle server: the loop is waiting, and on what', async (t) => {
  const x = await target('attach-idle-server.mjs');
  const port = Number(x.ready.split(' ')[1]);
  const r = await runCli(['dump', String(x.pid), '--json']);
  t.equal(r.code, 0, r.stderr);
  const dump = JSON.parse(r.stdout);
  t.equal(dump.schema, 'hangwatch.dump/1');
  t.equal(dump.pid, x.pid);
  t.equal(dump.openedInspector, true);
  t.equal(dump.threads.length, 1);
  const [main] = dump.threads;
  t.equal(main.thread, 'main thread');
  // A pause landing as the interval fires is "running" with only Node's frames; both list what the loop holds.
  t.ok(
    main.state === 'idle' || main.frames.every((f: { file: string }) => f.file.startsWith('node:')),
    JSON.stringify(main),
  );
  t.ok(main.activeResources.TCPServerWrap >= 1, 'waits on the listening socket');
  t.ok(main.activeResources.Timeout >= 1, 'and on the interval');
  await leftAsItWas(t, x);
  t.equal(await httpGet(port), 'ok', 'the server still answers');
  const text = await runCli(['dump', String(x.pid)]);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /Waiting on: .*TCPServerWrap/);
  await leftAsItWas(t, x);
});

t.test('--all adds worker threads', async (t) => {
  const x = await target('attach-worker.mjs');
  const r = await runCli(['dump', '--all', String(x.pid)]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `Process ${x.pid}, main thread:`);
  t.match(r.stdout, /Process \d+, worker 1 \(spinner\): running JavaScript[^\n]*\n(?:.*\n)*.*in workerSpinsHere\n/);
  const plain = await runCli(['dump', String(x.pid)]);
  t.notMatch(plain.stdout, 'worker 1', 'without --all: the main thread only');
  await leftAsItWas(t, x);
  t.ok(await keepsRunning(x.pid), 'the worker still runs');
});

t.test('a TypeScript target: frames mapped to the .ts source', async (t) => {
  const x = await target('attach-typescript.ts', ['--inspect-port=0', '--import', 'tsx']);
  const r = await runCli(['dump', String(x.pid)]);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    /File ".*attach-typescript\.ts", line 6, column \d+, in spinInTypeScript\n\s+for \(;;\) counter\.n\+\+;/,
  );
  await leftAsItWas(t, x);
});
