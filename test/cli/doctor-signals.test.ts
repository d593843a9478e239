// SIGTERM or SIGHUP sent to `hangwatch doctor` reach its program (which runs in its own process
// group): the doctor waits for it, removes its temporary directory and exits 128 + signal number.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fixture, ROOT } from './run-cli.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  t.test(`doctor: ${signal} is passed on to the program; no orphan, no temporary directory left`, async (t) => {
    const doctor = spawn(
      'env',
      [
        '-u',
        'NODE_OPTIONS',
        process.execPath,
        '--import',
        'tsx',
        'lib/cli/main.ts',
        'doctor',
        '--no-html',
        '--interval',
        '100',
        '--',
        process.execPath,
        fixture('prints-pid-and-waits.mjs'),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    doctor.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let program: { pid: number; channel: string } | undefined;
    t.teardown(() => {
      // Only if the assertion below failed: do not leave the program behind.
      if (program && alive(program.pid)) process.kill(program.pid, 'SIGKILL');
    });
    const closed = new Promise<number | null>((resolve) => doctor.on('exit', resolve));
    let out = '';
    doctor.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!program && out.includes('\n')) {
        program = JSON.parse(out.slice(0, out.indexOf('\n'))) as { pid: number; channel: string };
        doctor.kill(signal);
      }
    });
    const exitCode = await closed;
    t.ok(program, 'the program started');
    t.equal(exitCode, code, stderr);
    t.notOk(alive(program!.pid), `program ${program!.pid} is gone`);
    t.match(dirname(program!.channel), /hangwatch-run-/);
    t.notOk(existsSync(dirname(program!.channel)), 'temporary directory removed');
    t.match(stderr, new RegExp(`${signal} received`));
  });
}
