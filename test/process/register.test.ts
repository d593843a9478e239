// The zero-code preload in a real process: what it writes to the channel, that it never changes
// how a program behaves or exits, and how it degrades.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChannelRecord } from '../../lib/process/doctor-channel.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hw-register-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  records: ChannelRecord[];
}

let n = 0;
function runWithPreload(
  source: string,
  {
    env = {} as NodeJS.ProcessEnv,
    preload = ['--import', 'tsx', '--import', './lib/register.ts'],
    ext = 'mjs',
    signalAfterMs = 0,
  } = {},
): Promise<Ran> {
  const script = join(dir, `program-${++n}.${ext}`);
  const channel = join(dir, `channel-${n}.ndjson`);
  writeFileSync(script, source);
  return new Promise((resolve, reject) => {
    // `env -u NODE_OPTIONS`: keep the test runner's own preload out of the program.
    const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, ...preload, script], {
      cwd: ROOT,
      env: {
        ...process.env,
        HANGWATCH_CHANNEL: channel,
        HANGWATCH_REPORT_DIR: 'off',
        HANGWATCH_SAMPLE_MS: '50',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (signalAfterMs && d.includes('ready')) setTimeout(() => child.kill('SIGINT'), signalAfterMs);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`program did not exit; stderr: ${stderr}`));
    }, 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = existsSync(channel) ? readFileSync(channel, 'utf8') : '';
      const records = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ChannelRecord);
      resolve({ code, signal, stdout, stderr, records });
    });
    child.on('error', reject);
  });
}

t.test('a short program: same output and exit code; hello, samples and exit on the channel', async (t) => {
  const r = await runWithPreload(
    `let x = 0; const id = setInterval(() => { if (++x === 5) { clearInterval(id); console.log('done'); process.exitCode = 4; } }, 40);`,
  );
  t.equal(r.code, 4);
  t.equal(r.stdout, 'done\n');
  t.equal(r.stderr, '', 'nothing on stderr when nothing is wrong');
  const types = r.records.map((x) => x.type);
  t.equal(types[0], 'hello');
  t.equal(types[types.length - 1], 'exit');
  t.ok(types.filter((x) => x === 'sample').length >= 3, `${types.length} records`);
  const exit = r.records.find((x) => x.type === 'exit');
  t.equal(exit?.type === 'exit' && exit.exitCode, 4);
  const hello = r.records[0];
  t.equal(hello?.type === 'hello' && hello.intervalMs, 50);
});

t.test('the preload does not keep a program alive', async (t) => {
  const started = Date.now();
  const r = await runWithPreload(`console.log('hi');`, { env: { HANGWATCH_SAMPLE_MS: '60000' } });
  t.equal(r.code, 0);
  t.ok(Date.now() - started < 15_000, 'exited without waiting for the sampler');
});

t.test('SIGINT without a handler of the program: samples flushed, then it dies of SIGINT as usual', async (t) => {
  const r = await runWithPreload(`process.stderr.write('ready\\n'); setInterval(() => {}, 1000);`, {
    signalAfterMs: 300,
  });
  t.equal(r.signal, 'SIGINT');
  const exit = r.records.find((x) => x.type === 'exit');
  t.equal(exit?.type === 'exit' && exit.exitCode, 130);
});

t.test("SIGINT with the program's own handler: its handler decides", async (t) => {
  const r = await runWithPreload(
    `process.on('SIGINT', () => { console.log('graceful'); process.exit(7); }); process.stderr.write('ready\\n'); setInterval(() => {}, 1000);`,
    { signalAfterMs: 300 },
  );
  t.equal(r.code, 7);
  t.equal(r.stdout, 'graceful\n');
});

t.test('blocks are reported on stderr with the stack captured while blocked', async (t) => {
  // 400 ms of CPU, not of wall time: on a loaded machine a wall-clock spin gets less CPU than half
  // its length and is (rightly) a starved process, which the preload does not report.
  const program = `function crunch() { const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if (u.user + u.system >= 400e3) break; } } setTimeout(() => { crunch(); setTimeout(() => {}, 200); }, 100);`;
  const r = await runWithPreload(program, { env: { HANGWATCH_BLOCK_MS: '200' } });
  t.equal(r.code, 0);
  t.match(r.stderr, /hangwatch: event loop blocked for (?:\d+ ms|[\d.]+ s)[^\n]*\n\s+at crunch \(/);
  const json = await runWithPreload(program, { env: { HANGWATCH_BLOCK_MS: '200', HANGWATCH_FORMAT: 'json' } });
  const first = JSON.parse(json.stderr.trim().split('\n')[0] as string) as {
    schema: string;
    samples?: { frames: { functionName: string }[] }[];
  };
  t.equal(first.schema, 'hangwatch.block-event');
  t.equal(first.samples?.[0]?.frames[0]?.functionName, 'crunch', 'the blocking function, from the JSON event');
});

t.test(
  'blocks are reported from the loop delay when stacks cannot be captured (inspector held by --inspect)',
  async (t) => {
    const r = await runWithPreload(
      `setTimeout(() => { const end = process.cpuUsage().user + 400e3; while (process.cpuUsage().user < end); setTimeout(() => {}, 200); }, 100);`,
      {
        env: { HANGWATCH_BLOCK_MS: '200' },
        preload: ['--inspect=127.0.0.1:0', '--import', 'tsx', '--import', './lib/register.ts'],
      },
    );
    t.equal(r.code, 0);
    t.match(r.stderr, /hangwatch: event loop (blocked|delayed)/);
  },
);

t.test('bad configuration: one warning each, defaults used, the program runs', async (t) => {
  const r = await runWithPreload(`console.log('ok');`, {
    env: { HANGWATCH_BLOCK_MS: 'soon', HANGWATCH_FORMAT: 'xml' },
  });
  t.equal(r.code, 0);
  t.equal(r.stdout, 'ok\n');
  t.match(r.stderr, /HANGWATCH_BLOCK_MS="soon"/);
  t.match(r.stderr, /HANGWATCH_FORMAT="xml"/);
});

t.test('an unwritable channel does not stop the program', async (t) => {
  const r = await runWithPreload(`console.log('ok');`, {
    env: { HANGWATCH_CHANNEL: '/nonexistent/dir/channel.ndjson' },
  });
  t.equal(r.code, 0);
  t.equal(r.stdout, 'ok\n');
  t.match(r.stderr, /cannot open HANGWATCH_CHANNEL/);
});

const cjs = join(ROOT, 'dist/cjs/lib/register.js');
t.test(
  'CommonJS: --require of the built preload',
  { skip: existsSync(cjs) ? false : 'dist/cjs not built (npm run build)' },
  async (t) => {
    const r = await runWithPreload(
      `const x = require('node:path').sep; setTimeout(() => console.log('cjs', x), 120);`,
      { preload: ['--require', cjs], ext: 'cjs' },
    );
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'cjs /\n');
    t.ok(r.records.some((x) => x.type === 'sample'));
  },
);

t.test('the preload hang watchdog reports a stuck loop while it is stuck and can end the process', async (t) => {
  const ran = await runWithPreload(
    `function stuckInParser() { for (;;) { JSON.stringify({ a: 1 }); } }
setTimeout(stuckInParser, 50);
`,
    {
      env: {
        HANGWATCH_CHANNEL: '',
        HANGWATCH_HANG_MS: '300',
        HANGWATCH_HANG_ACTION: 'exit',
        HANGWATCH_HANG_EXIT_CODE: '71',
      },
    },
  );
  t.equal(ran.code, 71, ran.stderr.slice(0, 400));
  t.match(ran.stderr, /operation "event loop"/);
  t.match(ran.stderr, /in stuckInParser/);
});

t.test('HANGWATCH_HANG_MS=0 turns the hang watchdog off; bad values are reported and ignored', async (t) => {
  const ran = await runWithPreload(`const end = Date.now() + 500; while (Date.now() < end);\n`, {
    env: {
      HANGWATCH_CHANNEL: '',
      HANGWATCH_HANG_MS: '0',
      HANGWATCH_HANG_ACTION: 'explode',
      HANGWATCH_BLOCK_MS: '5000',
    },
  });
  t.equal(ran.code, 0);
  t.notMatch(ran.stderr, /operation "event loop"/);
  t.match(ran.stderr, /HANGWATCH_HANG_ACTION="explode" is not "report" or "exit"/);
});
