/**
 * What hangwatch checks before it sends SIGUSR1 to a process: that the platform has the signal,
 * that the process exists and may be signalled by this user, that it is Node.js and handles
 * SIGUSR1 (for any other program the signal's default action is to terminate it), and which
 * inspector port it is configured with.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { ProcessNotFoundError } from '../process/errors.js';
import { AttachPermissionError, AttachUnsupportedPlatformError, NotNodeProcessError } from './errors.js';

/** Node's default inspector port (`--inspect-port`, `--debug-port`, `--inspect=[host:]port` change it). */
export const DEFAULT_INSPECT_PORT = 9229;
const SIGUSR1_NUMBER = 10;

export interface TargetProcess {
  pid: number;
  /** Name of the executable (`node`, `nodejs`, ...). */
  executable: string;
  /** Port its inspector is configured to open on (0 = any free port), from its command line and NODE_OPTIONS. */
  inspectPort: number;
  /** Started with --inspect, --inspect-brk or --inspect-wait: its inspector may be open already. */
  inspectFlag: boolean;
}

/** Throws the typed error that says why `pid` cannot be attached to; otherwise describes it. */
export async function checkAttachable(pid: number): Promise<TargetProcess> {
  if (process.platform === 'win32') throw new AttachUnsupportedPlatformError('Windows');
  if (pid === process.pid) throw new NotNodeProcessError(pid, 'it is this hangwatch process');
  try {
    process.kill(pid, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM') throw new AttachPermissionError(pid, 'signal the process', { cause: err });
    throw new ProcessNotFoundError(pid, { cause: err });
  }
  return process.platform === 'linux' ? checkLinux(pid) : checkWithPs(pid);
}

async function checkLinux(pid: number): Promise<TargetProcess> {
  const status = await readProc(pid, 'status', () => readFile(`/proc/${pid}/status`, 'utf8'));
  if (status === undefined) throw new ProcessNotFoundError(pid);
  const exe = await readProc(pid, 'exe', () => readlink(`/proc/${pid}/exe`));
  if (exe === undefined) throw new NotNodeProcessError(pid, 'it has no executable (a zombie or a kernel thread)');
  if (/^State:\s*Z/m.test(status))
    throw new NotNodeProcessError(pid, 'it has exited (a zombie waiting for its parent)');
  const executable = basename(exe.replace(/ \(deleted\)$/, ''));
  if (!/node/i.test(executable)) throw new NotNodeProcessError(pid, `its executable is ${executable}, not node`);
  // SigCgt: the signals the process has a handler for. Without one for SIGUSR1 (Node started with
  // --disable-sigusr1, or a build without the inspector) the signal would terminate it.
  const caught = /^SigCgt:\s*([0-9a-f]+)/im.exec(status)?.[1];
  if (caught !== undefined && (BigInt(`0x${caught}`) & (1n << BigInt(SIGUSR1_NUMBER - 1))) === 0n) {
    throw new NotNodeProcessError(
      pid,
      'it does not handle SIGUSR1 (started with --disable-sigusr1 or built without the inspector); the signal would terminate it',
    );
  }
  const [cmdline, environ] = await Promise.all([
    readNulSeparated(`/proc/${pid}/cmdline`),
    readNulSeparated(`/proc/${pid}/environ`),
  ]);
  const nodeOptions = environ.find((e) => e.startsWith('NODE_OPTIONS='))?.slice('NODE_OPTIONS='.length) ?? '';
  const flags = [...nodeOptions.split(/\s+/), ...nodeFlags(cmdline)];
  return { pid, executable, inspectPort: inspectPortOf(flags), inspectFlag: hasInspectFlag(flags) };
}

/** A file of /proc/<pid>: undefined when it is gone, `AttachPermissionError` when not readable. */
async function readProc(pid: number, what: string, read: () => Promise<string>): Promise<string | undefined> {
  try {
    return await read();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new AttachPermissionError(pid, `read /proc/${pid}/${what}`, { cause: err });
    return undefined;
  }
}

async function readNulSeparated(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Node's own flags: those between the executable and the script. */
function nodeFlags(argv: string[]): string[] {
  const flags: string[] = [];
  for (const arg of argv.slice(1)) {
    if (!arg.startsWith('-') || arg === '--') break;
    flags.push(arg);
  }
  return flags;
}

/** The inspector port these flags configure; later flags win, as in Node. */
export function inspectPortOf(flags: string[]): number {
  let port = DEFAULT_INSPECT_PORT;
  for (const flag of flags) {
    const m = /^--(?:inspect-port|debug-port|inspect|inspect-brk|inspect-wait)=(?:.*:)?(\d+)$/.exec(flag);
    if (m) port = Number(m[1]);
  }
  return port;
}

export function hasInspectFlag(flags: string[]): boolean {
  return flags.some((f) => /^--inspect(?:-brk|-wait)?(?:=|$)/.test(f));
}

/** macOS (no /proc): the command name from ps; the SIGUSR1 handler cannot be checked there. */
function checkWithPs(pid: number): Promise<TargetProcess> {
  return new Promise((resolve, reject) => {
    execFile('ps', ['-o', 'comm=', '-p', String(pid)], { timeout: 5000 }, (err, stdout) => {
      const executable = basename(stdout.trim());
      if (err || !executable) {
        reject(new ProcessNotFoundError(pid, { cause: err }));
        return;
      }
      if (!/node/i.test(executable)) {
        reject(new NotNodeProcessError(pid, `its executable is ${executable}, not node`));
        return;
      }
      execFile('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { timeout: 5000 }, (_err, command) => {
        const flags = nodeFlags(command.trim().split(/\s+/));
        resolve({ pid, executable, inspectPort: inspectPortOf(flags), inspectFlag: hasInspectFlag(flags) });
      });
    });
  });
}
