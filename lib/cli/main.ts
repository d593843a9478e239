#!/usr/bin/env node
/**
 * The `hangwatch` command: a small dispatcher from a subcommand name to a module exporting
 * `run(argv): Promise<number>` (the exit code) and `usage`. Exit codes: 0 ok, 1 the operation
 * failed, 2 bad arguments (message and usage on stderr).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hangwatchPackageRoot } from '../capture/own-files.js';
import { HangwatchError } from '../errors.js';
import { UsageError } from './errors.js';

interface CommandModule {
  run(argv: string[]): Promise<number>;
  usage?: string;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: {
    summary: 'run a program with the preload; summary of blocks, GC and memory at exit',
    load: () => import('./run-command.js'),
  },
  doctor: {
    summary: 'run a program, sample it and diagnose it; HTML report',
    load: () => import('./doctor-command.js'),
  },
  top: { summary: 'live CPU and memory of any process', load: () => import('./top-command.js') },
  cpu: {
    summary: "profile a command's or a running process's CPU use (pstats-like table, .cpuprofile/pprof/flame graph)",
    load: () => import('./cpu-command.js'),
  },
  heap: {
    summary: 'heap snapshots: take one of a running process, summary, diff, leaks',
    load: () => import('./heap-command.js'),
  },
  dump: {
    summary: 'current JavaScript stack of a running Node.js process (pid)',
    load: () => import('./dump-command.js'),
  },
  cycles: {
    summary: 'list the import cycles reachable from an entry file (exit 1 if any: for CI)',
    load: () => import('./cycles-command.js'),
  },
};

export const USAGE = `Usage: hangwatch <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Run "hangwatch <command> --help" for a command's options; "hangwatch --version" for the version.
Zero-code preload: node --import hangwatch/register app.js (see docs/cli.md).

Exit codes: 0 ok, 1 the operation failed, 2 bad arguments.`;

/** The version in hangwatch's own package.json ("unknown" if it cannot be read). */
export function hangwatchVersion(): string {
  const root = hangwatchPackageRoot();
  if (root === undefined) return 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === 'hangwatch' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`hangwatch ${hangwatchVersion()} (node ${process.version})\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? rest[0] : undefined;
    if (target && COMMANDS[target]) return (await COMMANDS[target].load()).run(['--help']);
    (name === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`hangwatch: unknown command ${JSON.stringify(name)}\n\n${USAGE}\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = command.usage ?? USAGE;
      process.stderr.write(`hangwatch ${name}: ${error.message}\n\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
      return 2;
    }
    if (error instanceof HangwatchError) {
      process.stderr.write(`hangwatch ${name}: ${error.message.replace(/^hangwatch: /, '')} (${error.code})\n`);
      return 1;
    }
    process.stderr.write(
      `hangwatch ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`hangwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
