/** Test helpers: run a fixture in a child Node process with tsx. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runFixture(
  file: string,
  {
    env = {},
    nodeArgs = [],
    timeoutMs = 60_000,
    args = [],
    plainNode = false,
  }: {
    env?: Record<string, string>;
    nodeArgs?: string[];
    timeoutMs?: number;
    args?: string[];
    plainNode?: boolean;
  } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // plainNode: compiled JavaScript, run without tsx (and without tap's --enable-source-maps).
    const loader = plainNode ? [] : ['--import', 'tsx'];
    const child = spawn(process.execPath, [...nodeArgs, ...loader, file, ...args], {
      cwd: root,
      env: { ...process.env, ...(plainNode ? { NODE_OPTIONS: '' } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until `done()` holds (checked every 10 ms), at most `limitMs`: for an event that comes
 * "soon" on an idle machine and whenever the scheduler allows on a loaded one. Returns whether it held.
 */
export async function waitFor(done: () => boolean, limitMs = 20_000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await sleep(10);
  }
  return true;
}

/**
 * Whether the servers some tests need (Chromium, PostgreSQL, Prometheus) must be there: under CI
 * (`.ci/run` sets TEST_SERVICES=required; `CI` counts too) a missing one fails its test
 * instead of skipping it, so a green CI run cannot hide skipped end-to-end tests.
 */
export function servicesRequired(): boolean {
  return process.env.TEST_SERVICES === 'required' || Boolean(process.env.CI);
}
