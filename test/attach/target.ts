// Test targets for attaching: real Node processes started from fixtures, and what to check on them afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { listeningPorts } from '../../lib/attach/process-sockets.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Target {
  pid: number;
  child: ChildProcess;
  /** The line the fixture printed when ready (`ready [port]`). */
  ready: string;
  stderr(): string;
  /** Ports it listened on once ready, sorted. */
  portsBefore: number[];
  stop(): void;
}

/**
 * Start `node [nodeArgs] test/fixtures/<name>` (without tap's NODE_OPTIONS, and without the coverage
 * collection of the test run: a target is a stand-in for a user's process, which is not under
 * NODE_V8_COVERAGE, and `cpu --pid` leaves a target's precise coverage alone when it is) and wait
 * for its `ready` line.
 */
export function startTarget(
  name: string,
  nodeArgs: string[] = ['--inspect-port=0'],
  node = process.execPath,
): Promise<Target> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'env',
      ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', node, ...nodeArgs, `test/fixtures/${name}`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not get ready; stderr: ${err}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', async (d: string) => {
      out += d;
      const line = /^ready.*$/m.exec(out)?.[0];
      if (!line || child.pid === undefined) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const pid = child.pid;
      resolve({
        pid,
        child,
        ready: line,
        stderr: () => err,
        portsBefore: await ports(pid),
        stop: () => {
          child.kill('SIGKILL');
        },
      });
    });
    child.on('error', reject);
  });
}

export async function ports(pid: number): Promise<number[]> {
  return (await listeningPorts(pid)).map((s) => s.port).sort((a, b) => a - b);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Whether the process keeps burning CPU (it runs, it is not paused by a debugger): waits until it
 * used `ticks` more clock ticks, up to `timeoutMs` (a paused process never does).
 */
export async function keepsRunning(pid: number, ticks = 10, timeoutMs = 15_000): Promise<boolean> {
  const start = cpuTicks(pid);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (cpuTicks(pid) - start >= ticks) return true;
  }
  return false;
}

export function httpGet(port: number, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
  });
}

/**
 * A `startTarget` that remembers every target it started and stops them all when `t` ends (the
 * test file's root `tap` object in each attach test file).
 */
export function targetsStoppedAtEnd(t: Pick<Test, 'teardown'>): (name: string, nodeArgs?: string[]) => Promise<Target> {
  const targets: Target[] = [];
  t.teardown(() => targets.forEach((x) => x.stop()));
  return async (name, nodeArgs) => {
    const x = await startTarget(name, nodeArgs);
    targets.push(x);
    return x;
  };
}

/** After a command: the target is alive and listens on no port beyond its own (its inspector is closed). */
export async function leftAsItWas(t: Test, x: Target): Promise<void> {
  t.ok(isAlive(x.pid), 'the target is alive');
  t.same(await ports(x.pid), x.portsBefore, 'no port of the target listens beyond its own (the inspector is closed)');
}
