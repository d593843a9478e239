/**
 * `hangwatch cpu [options] -- <command...>`: run a command under the CPU profiler, then print a
 * pstats-like table and save the profile. A `node` command gets `--cpu-prof`; any other command
 * (npm, npx, a script) gets a preload through NODE_OPTIONS that profiles every Node process it
 * starts. The profile printed and saved at `--out` is the main thread of a `node` command, or
 * else the one with the most CPU time; the others are saved next to it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { CpuProfile } from '../cpu/cpu-profile.js';
import { STATS_SORT_KEYS, type StatsSortKey } from '../cpu/stats.js';
import { CPU_PRELOAD_SOURCE } from './cpu-preload.js';
import { withAttachedProcess } from '../attach/attach-session.js';
import { recordRemoteCpuProfile } from '../attach/remote-cpu-profile.js';
import { type OptionSpec, parseCommandLine, stringArg } from './cli-args.js';
import { UsageError } from './errors.js';

export const usage = `Usage: hangwatch cpu [options] -- <command> [args...]
       hangwatch cpu [options] --pid <pid> --duration <seconds>

Run <command> under the CPU profiler, print the hottest functions (like Python's
cProfile/pstats) and save the profile. With --pid, profile a running Node.js process
instead, through its inspector (SIGUSR1; closed again afterwards; Linux/macOS).

Options:
  --out <file>          Where to save the profile (default: ./hangwatch-<time>.cpuprofile).
                        .cpuprofile/.json: Chrome DevTools & speedscope; .pb.gz/.pprof: pprof;
                        .html: self-contained flame graph.
  --sort <key>          self | cumulative | name | file | samples (default: cumulative)
  --top <n>             Rows to print (default: 25; 0 = all)
  --interval <us>       Sampling interval in microseconds (default: 1000)
  --exclude-internals   Hide node: internal frames (their time goes to the caller)
  --json                Print machine-readable JSON instead of the table
  --pid <pid>           Profile this running Node.js process (its main thread)
  --duration <s>        With --pid: how long to record (default 10; Ctrl-C stops early)
  -h, --help            Show this help

A "node" command is profiled with node --cpu-prof and its main thread is reported; any
other command gets a preload through NODE_OPTIONS, so every Node process it starts is
profiled, and the busiest profile is reported. Other profiles (threads, processes) are
saved next to --out. The exit code is the command's own; 1 if no profile was produced,
2 for bad arguments.
`;

interface CpuArgs {
  out?: string;
  sort: StatsSortKey;
  top: number;
  intervalUs: number;
  excludeInternals: boolean;
  json: boolean;
  command: string[];
  pid?: number;
  durationS?: number;
}

const DEFAULT_DURATION_S = 10;

const CPU_OPTIONS = {
  out: { type: 'string' },
  sort: { type: 'string' },
  top: { type: 'string' },
  interval: { type: 'string' },
  'exclude-internals': { type: 'boolean' },
  json: { type: 'boolean' },
  pid: { type: 'string' },
  duration: { type: 'string' },
} as const satisfies OptionSpec;

/** The options before the command (after `--`, or from its first argument on); undefined for --help. */
function parseCpuArgs(argv: string[]): CpuArgs | undefined {
  const { values, command } = parseCommandLine(argv, CPU_OPTIONS, { commandAtFirstPositional: true });
  if (values.help) return undefined;
  const args: CpuArgs = {
    sort: 'cumulative',
    top: 25,
    intervalUs: 1000,
    excludeInternals: values['exclude-internals'] === true,
    json: values.json === true,
    command,
  };
  const out = stringArg(values, 'out');
  if (out !== undefined) args.out = out;
  const sort = stringArg(values, 'sort');
  if (sort !== undefined) {
    if (!(STATS_SORT_KEYS as readonly string[]).includes(sort))
      throw new UsageError(`--sort must be one of ${STATS_SORT_KEYS.join(', ')}`);
    args.sort = sort as StatsSortKey;
  }
  const top = stringArg(values, 'top');
  if (top !== undefined) {
    const v = Number(top);
    if (!Number.isInteger(v) || v < 0) throw new UsageError('--top must be an integer >= 0');
    args.top = v;
  }
  const interval = stringArg(values, 'interval');
  if (interval !== undefined) {
    const v = Number(interval);
    if (!Number.isInteger(v) || v < 1 || v > 1_000_000)
      throw new UsageError('--interval must be an integer number of microseconds, 1..1000000');
    args.intervalUs = v;
  }
  const pid = stringArg(values, 'pid');
  if (pid !== undefined) {
    if (!/^\d+$/.test(pid) || Number(pid) <= 0)
      throw new UsageError(`--pid must be a positive integer; got ${JSON.stringify(pid)}`);
    args.pid = Number(pid);
  }
  const duration = stringArg(values, 'duration');
  if (duration !== undefined) {
    const v = Number(duration);
    if (!Number.isFinite(v) || v <= 0 || v > 86_400)
      throw new UsageError('--duration must be a number of seconds, more than 0 and at most 86400');
    args.durationS = v;
  }
  if (args.pid !== undefined) {
    if (args.command.length > 0) throw new UsageError('give either --pid or a command to run, not both');
    return args;
  }
  if (args.durationS !== undefined) throw new UsageError('--duration goes with --pid');
  if (args.command.length === 0)
    throw new UsageError('missing the command to profile (put it after --, or give --pid)');
  return args;
}

function isNodeCommand(cmd: string): boolean {
  return cmd === process.execPath || /^node(\.exe)?$/i.test(basename(cmd));
}

interface ChildResult {
  exitCode: number;
  /** pid of the process the command started directly, when it is Node itself. */
  nodePid?: number;
}

function runChild(command: string[], dir: string, intervalUs: number): Promise<ChildResult> {
  const [cmd, ...rest] = command as [string, ...string[]];
  let argv = rest;
  const env = { ...process.env };
  const direct = isNodeCommand(cmd);
  if (direct) {
    argv = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${intervalUs}`, ...rest];
  } else {
    const preload = join(dir, 'hangwatch-cpu-preload.cjs');
    writeFileSync(preload, CPU_PRELOAD_SOURCE);
    env.HANGWATCH_CPU_PROF_DIR = dir;
    env.HANGWATCH_CPU_PROF_INTERVAL = String(intervalUs);
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require=${JSON.stringify(preload)}`.trim();
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (exitCode: number): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(direct && child.pid !== undefined ? { exitCode, nodePid: child.pid } : { exitCode });
    };
    child.on('error', (err) => {
      process.stderr.write(`hangwatch cpu: cannot run ${cmd}: ${err.message}\n`);
      done(127);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}

/** `CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile` (node --cpu-prof and our preload). */
function pidAndThread(file: string): { pid: number; threadId: number } | undefined {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\./.exec(file);
  return m ? { pid: Number(m[1]), threadId: Number(m[2]) } : undefined;
}

function defaultOut(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `hangwatch-${stamp}.cpuprofile`;
}

function withSuffix(file: string, n: number): string {
  const lower = file.toLowerCase();
  const ext = lower.endsWith('.pb.gz') ? '.pb.gz' : extname(file);
  return `${file.slice(0, file.length - ext.length)}.${n}${ext}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCpuArgs(argv);
  if (args === undefined) {
    process.stdout.write(usage);
    return 0;
  }
  if (args.pid !== undefined) return profileRunningProcess(args.pid, args);
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-cpu-'));
  try {
    const { exitCode, nodePid } = await runChild(args.command, dir, args.intervalUs);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) {
      process.stderr.write(
        'hangwatch cpu: the command produced no CPU profile (it did not start Node, or was killed by a signal)\n',
      );
      return exitCode || 1;
    }
    const view = { excludeNodeInternals: args.excludeInternals };
    const loaded = await Promise.all(
      files.map(async (f) => {
        const profile = (await CpuProfile.load(join(dir, f), { samplingIntervalUs: args.intervalUs })).filter(view);
        return { name: f, profile, busyMs: profile.stats().summary.totalTimeMs };
      }),
    );
    // The main thread of a node command first; otherwise (and then) the busiest profile.
    const isMain = (name: string): number => {
      const id = pidAndThread(name);
      return id && id.pid === nodePid && id.threadId === 0 ? 1 : 0;
    };
    loaded.sort((a, b) => isMain(b.name) - isMain(a.name) || b.busyMs - a.busyMs);
    await reportProfiles(
      loaded.map((l) => l.profile),
      args,
      { exitCode },
    );
    return exitCode;
  } catch (err) {
    process.stderr.write(`hangwatch cpu: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Save the profiles (the first at --out, the others next to it) and print the first one's table
 * (or JSON with `extra` merged in). Shared by a command run under the profiler and `--pid`.
 */
async function reportProfiles(profiles: CpuProfile[], args: CpuArgs, extra: object): Promise<void> {
  const out = args.out ?? defaultOut();
  const saved: string[] = [];
  for (let i = 0; i < profiles.length; i++)
    saved.push(await (profiles[i] as CpuProfile).writeFile(i === 0 ? out : withSuffix(out, i + 1)));
  let stats = (profiles[0] as CpuProfile).stats().sort(args.sort);
  if (args.top > 0) stats = stats.top(args.top);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ...extra, profiles: saved, stats: stats.toJSON() })}\n`);
  } else {
    process.stdout.write(stats.format());
    process.stderr.write(
      `hangwatch cpu: profile saved to ${saved[0]}${saved.length > 1 ? ` (+${saved.length - 1} more from other processes/threads: ${saved.slice(1).join(', ')})` : ''}\n`,
    );
  }
}

/** `--pid`: record the running process's main thread for --duration seconds over its inspector. */
async function profileRunningProcess(pid: number, args: CpuArgs): Promise<number> {
  const durationMs = (args.durationS ?? DEFAULT_DURATION_S) * 1000;
  if (!args.json)
    process.stderr.write(`hangwatch cpu: profiling process ${pid} for ${durationMs / 1000} s (Ctrl-C stops early)…\n`);
  const outcome = await withAttachedProcess(
    pid,
    ({ main, signal }) => recordRemoteCpuProfile(main, { durationMs, intervalUs: args.intervalUs, signal }),
    {
      workHandlesInterrupt: true,
      log: (line) => process.stderr.write(`${line}\n`),
    },
  );
  const { profile: raw, startEpochMs, truncated } = outcome.result;
  const profile = new CpuProfile(raw, {
    samplingIntervalUs: args.intervalUs,
    backend: 'inspector',
    startEpochMs,
    threadId: 0,
    truncated,
  }).filter({
    excludeNodeInternals: args.excludeInternals,
  });
  await reportProfiles([profile], args, { pid, durationMs: profile.durationMs, truncated });
  if (outcome.stillListening) process.stderr.write(`hangwatch cpu: warning: ${outcome.stillListening}\n`);
  return 0;
}
