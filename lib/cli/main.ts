#!/usr/bin/env node
/**
 * The `hangwatch` command: a tiny dispatcher from subcommand to a module exporting `run(argv)`.
 */
const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  heap: () => import('./heap-command.js'),
};

const usage = `usage: hangwatch <command> [options]

commands:
  heap      heap snapshots: summary, diff, leaks, snapshot

Run "hangwatch <command> --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`hangwatch: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  return (await load()).run(rest);
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
