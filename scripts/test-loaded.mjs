#!/usr/bin/env node
/**
 * `npm run test:loaded`: the test suite with the machine under load. Starts CPU burners
 * (`node -e 'for(;;){}'`, two by default; HANGWATCH_BURNERS=N for another count) beside the
 * suite, runs `npm test` (or the command given after `--`, e.g. `-- npx tap test/loop`), always
 * stops the burners — when the suite ends, fails, or this script gets SIGINT/SIGTERM/SIGHUP —
 * and exits with the suite's exit code.
 */
import { spawn } from 'node:child_process';

const count = Number(process.env.HANGWATCH_BURNERS ?? 2);
if (!Number.isInteger(count) || count < 0 || count > 64) {
  process.stderr.write(
    `test:loaded: HANGWATCH_BURNERS must be an integer 0..64, got ${process.env.HANGWATCH_BURNERS}\n`,
  );
  process.exit(2);
}
const dash = process.argv.indexOf('--');
const command = dash >= 0 ? process.argv.slice(dash + 1) : ['npm', 'test'];
if (command.length === 0) {
  process.stderr.write('test:loaded: nothing to run after --\n');
  process.exit(2);
}

const burners = [];
for (let i = 0; i < count; i++) {
  const b = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  b.on('error', (err) => process.stderr.write(`test:loaded: burner failed to start: ${err.message}\n`));
  burners.push(b);
}
process.stderr.write(
  `test:loaded: ${count} CPU burner(s) running (pids ${burners.map((b) => b.pid).join(', ') || 'none'}); running: ${command.join(' ')}\n`,
);

function stopBurners() {
  for (const b of burners) {
    if (b.exitCode === null && b.signalCode === null) {
      try {
        b.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
// Burners must never outlive this script, whatever ends it.
process.on('exit', stopBurners);

const suite = spawn(command[0], command.slice(1), { stdio: 'inherit' });
let stoppingWith;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stoppingWith ??= signal;
    stopBurners();
    // The suite is in our process group for SIGINT from a terminal; forward the others.
    if (suite.exitCode === null && suite.signalCode === null) suite.kill(signal);
  });
}
suite.on('error', (err) => {
  process.stderr.write(`test:loaded: could not run ${command[0]}: ${err.message}\n`);
  stopBurners();
  process.exit(127);
});
suite.on('exit', (code, signal) => {
  stopBurners();
  if (code !== null) process.exit(code);
  const n = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal ?? stoppingWith ?? ''] ?? 1;
  process.exit(128 + n);
});
