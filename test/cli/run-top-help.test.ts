// `hangwatch run`, `hangwatch top`, --help of every command and the exit code 2 of bad arguments.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, ROOT, runCli } from './run-cli.js';

t.test('run: reports blocks to files and stderr, prints a summary, exits with the program code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runCli([
    'run',
    '--interval',
    '100',
    '--report-dir',
    dir,
    '--',
    process.execPath,
    fixture('blocks-then-exits.mjs'),
  ]);
  t.equal(r.code, 3, 'exit code of the program');
  t.match(r.stderr, /hangwatch run: .*blocks-then-exits\.mjs exited with code 3/);
  t.match(r.stderr, /event loop blocked ≥ 100 ms: [1-9]\d* block event/);
  // The stack captured while the loop was blocked, in the live report and in the summary.
  t.match(
    r.stderr,
    /hangwatch: event loop blocked for (?:\d+ ms|[\d.]+ s)[^\n]*\n\s+at spin \([^)]*blocks-then-exits\.mjs:4:\d+\)/,
  );
  t.match(r.stderr, /#1 \d+× [\d.]+ m?s total at spin \([^)]*blocks-then-exits\.mjs:4/);
  t.match(r.stderr, /GC: \d+ collections/);
  const files = readdirSync(dir);
  t.ok(files.length >= 2, `report files: ${files.join(', ')}`);
  // Block reports (a stall of the preload's hang watchdog writes a hang-*.txt too).
  const texts = files.filter((f) => f.startsWith('block-')).map((f) => readFileSync(join(dir, f), 'utf8'));
  t.ok(
    texts.every((text) => /event loop blocked/.test(text)),
    'each file is a block report',
  );
  // A block before the watchdog worker is up (slow to start on a loaded machine) has no stack.
  t.ok(
    texts.some((text) => /event loop blocked[\s\S]*at spin \(/.test(text)),
    `a report file has the stack (${texts.join('\n')})`,
  );
});

t.test('run --json: machine-readable summary on stderr', async (t) => {
  const r = await runCli([
    'run',
    '--json',
    '--interval',
    '100',
    '--report-dir',
    'off',
    '--',
    process.execPath,
    fixture('blocks-then-exits.mjs'),
  ]);
  t.equal(r.code, 3);
  const line = r.stderr.trim().split('\n').pop() as string;
  const summary = JSON.parse(line);
  t.equal(summary.schema, 'hangwatch.run-summary');
  t.equal(summary.exitCode, 3);
  t.ok(summary.blockedIntervals + summary.blockEvents >= 2, 'the blocks were caught');
  // At most the whole run (a loaded machine stretches 300 ms of work into seconds; the run's own
  // length is the bound this machine allowed).
  t.ok(
    summary.longestDelayMs >= 150 && summary.longestDelayMs < summary.durationMs,
    `longest ${summary.longestDelayMs} ms of ${summary.durationMs} ms`,
  );
  t.same(summary.reportFiles, []);
});

t.test('run: SIGTERM to hangwatch is passed on to the program, whose exit code it returns', async (t) => {
  const child = spawn(
    'env',
    [
      '-u',
      'NODE_OPTIONS',
      process.execPath,
      '--import',
      'tsx',
      'lib/cli/main.ts',
      'run',
      '--report-dir',
      'off',
      '--',
      process.execPath,
      fixture('waits-for-sigterm.mjs'),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').once('data', () => child.kill('SIGTERM'));
  const code = await new Promise((r) => child.on('close', r));
  t.equal(code, 5, stderr);
  t.match(stderr, /waits-for-sigterm\.mjs exited with code 5/);
});

t.test('run: a command that cannot start exits 1', async (t) => {
  const r = await runCli(['run', '--', '/nonexistent/program']);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot start \/nonexistent\/program.*ERR_CHILD_START/);
});

t.test('top: samples another process', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const r = await runCli(['top', '--count', '2', '--interval', '200', '--json', String(child.pid)]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(lines.length, 2);
  t.equal(lines[0].pid, child.pid);
  t.equal(lines[1].source, 'procfs');
  t.ok(lines[1].rssBytes > 1e6);
  const text = await runCli(['top', '--count', '1', String(child.pid)]);
  t.match(text.stdout, new RegExp(`pid ${child.pid}\\s+node\\s+\\S\\s+cpu\\s+[\\d.]+%\\s+rss`));
});

t.test('top: an unknown pid exits 1', async (t) => {
  const r = await runCli(['top', '--count', '1', String(2 ** 22 + 11)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no process with pid.*ERR_PROCESS_NOT_FOUND/);
});

t.test('--help of every command exits 0 with its usage', async (t) => {
  for (const cmd of ['run', 'doctor', 'top']) {
    const r = await runCli([cmd, '--help']);
    t.equal(r.code, 0, `${cmd} --help`);
    t.match(r.stdout, new RegExp(`Usage: hangwatch ${cmd}`));
    t.match(r.stdout, /Exit codes:/);
  }
  const top = await runCli(['--help']);
  t.equal(top.code, 0);
  t.match(top.stdout, /Commands:[\s\S]*doctor/);
});

t.test('bad arguments exit 2 with a clear message and the usage', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: hangwatch <command>/],
    [['nope'], /unknown command "nope"/],
    [['doctor', '--duration', 'abc', '--', 'node', 'x.js'], /--duration must be a number from 0.1/],
    [['doctor', '--interval', '5', '--', 'node'], /--interval must be a number from 20/],
    [['doctor', '--html', 'a.html', '--no-html', '--', 'node'], /contradict/],
    [['doctor'], /no command given/],
    [['run', '--format', 'xml', '--', 'node'], /--format must be "text" or "json"/],
    [['run', '--bogus', '--', 'node'], /Unknown option '--bogus'/],
    [['top'], /a pid is required/],
    [['top', 'abc'], /pid must be a positive integer/],
    [['top', '1', '2'], /one pid expected/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 2, `${args.join(' ') || '(none)'} exits 2`);
    t.match(r.stderr, message);
    t.match(r.stderr, /Usage: hangwatch/);
  }
});

t.test(
  'run with HANGWATCH_SYNC_IO=1: synchronous I/O after start-up, by call site, in the report and the summary',
  async (t) => {
    const r = await runCli(
      ['run', '--interval', '100', '--report-dir', 'off', '--', process.execPath, fixture('sync-io-handler.mjs')],
      { env: { HANGWATCH_SYNC_IO: '1' } },
    );
    t.equal(r.code, 0);
    t.match(
      r.stderr,
      /hangwatch: synchronous I\/O on the main thread after start-up: 20 calls/,
      'the report: 20 handler reads, not the start-up read',
    );
    t.match(
      r.stderr,
      /fs\.readFileSync ×20, [\d.]+ m?s total \(max [\d.]+ m?s\) in handleRequest \([^)]*sync-io-handler\.mjs:5\)/,
    );
    t.match(r.stderr, /SYNC-READ/, 'with its source line');
    t.match(
      r.stderr,
      /synchronous I\/O after start-up: 20 call\(s\), [\d.]+ m?s, by call site:\n\s+fs\.readFileSync ×20, .* in handleRequest \([^)]*sync-io-handler\.mjs:5\)/,
      'in the run summary',
    );
  },
);

t.test('run without HANGWATCH_SYNC_IO: no sync I/O tracing', async (t) => {
  const r = await runCli([
    'run',
    '--interval',
    '100',
    '--report-dir',
    'off',
    '--',
    process.execPath,
    fixture('sync-io-handler.mjs'),
  ]);
  t.equal(r.code, 0);
  t.notMatch(r.stderr, /synchronous I\/O/);
});

t.test('--version prints the version of package.json, from the sources and from the built bin', async (t) => {
  const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = await runCli([flag]);
    t.equal(r.code, 0, flag);
    t.equal(r.stdout, `hangwatch ${version} (node ${process.version})\n`, `${flag} from the sources`);
  }
  const bin = `${ROOT}/dist/esm/lib/cli/main.js`;
  if (!t.ok(existsSync(bin), 'dist/ is built (npm test builds it before the tests)')) return;
  const out = execFileSync(process.execPath, [bin, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.equal(out, `hangwatch ${version} (node ${process.version})\n`, 'from dist/');
});
