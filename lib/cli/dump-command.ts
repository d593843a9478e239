/**
 * `hangwatch dump <pid>`: the current JavaScript stack of a running Node.js process (its main
 * thread; `--all` adds worker threads), without restarting it. See lib/attach/attach-session.ts
 * for how the process is reached and left as it was.
 */
import { withAttachedProcess } from '../attach/attach-session.js';
import { readThreadStack, type ThreadStack } from '../attach/thread-stack.js';
import { withWorkerChannels } from '../attach/worker-threads.js';
import { renderThreadStacks } from '../report/render-thread-stacks.js';
import { numberArg, parseCommandLine } from './cli-args.js';
import { UsageError } from './errors.js';
import { pidArg } from './pid-arg.js';

export const usage = `Usage: hangwatch dump [options] <pid>

Print the current JavaScript stack of a running Node.js process (like py-spy dump):
source-mapped, with source lines. An idle process says what its event loop waits on.
The process is reached through its inspector (SIGUSR1), which is closed again afterwards.
Linux and macOS, same user as the process (or root).

Options:
  --all             Also the stacks of its worker threads
  --json            Machine-readable JSON on stdout
  --timeout <s>     How long to wait for a thread inside a native call (default 10)
  -h, --help        Show this help
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { all: { type: 'boolean' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
    { allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing the pid' : 'takes one pid');
  const pid = pidArg(positionals[0] as string);
  const timeoutMs = (numberArg(values, 'timeout', { min: 0.1, max: 3600 }) ?? 10) * 1000;
  // The stacks are printed as soon as they are read; closing the inspector follows.
  const outcome = await withAttachedProcess(
    pid,
    async ({ main, port, openedInspector }) => {
      const threads: ThreadStack[] = [await readThreadStack(main, { timeoutMs })];
      if (values.all) {
        await withWorkerChannels(main, async (workers) => {
          for (const worker of workers) {
            try {
              threads.push(await readThreadStack(worker, { timeoutMs }));
            } catch (err) {
              process.stderr.write(`hangwatch dump: ${worker.label}: ${(err as Error).message}\n`);
            }
          }
        });
      }
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({ schema: 'hangwatch.dump/1', pid, inspectorPort: port, openedInspector, threads })}\n`,
        );
      } else {
        process.stdout.write(renderThreadStacks(pid, threads));
      }
    },
    { log: (line) => process.stderr.write(`${line}\n`), startTimeoutMs: timeoutMs },
  );
  if (outcome.stillListening) process.stderr.write(`hangwatch dump: warning: ${outcome.stillListening}\n`);
  return 0;
}
