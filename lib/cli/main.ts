#!/usr/bin/env node
/**
 * The `hangwatch` command: a tiny dispatcher from a subcommand name to a module exporting
 * `run(argv): Promise<number>` (the exit code). Each command lives in its own file.
 */
type Command = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  cpu: () => import('./cpu-command.js'),
  heap: () => import('./heap-command.js'),
};

const USAGE = `Usage: hangwatch <command> [options]

Commands:
  cpu    profile a command's CPU use (cProfile/pstats-like table, .cpuprofile/pprof/flame graph)
  heap   heap snapshots: summary, diff, leaks

Run "hangwatch <command> --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`hangwatch: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`hangwatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
