/** Run a service entry point in a child process (tsx) and wait for its "listening on <url>" line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { root } from '../../helpers.js';

export interface ChildService {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export function startChildService(
  file: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ChildService> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    };
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`service did not start in ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1] as string, child, stderr: () => err, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening; stderr: ${err}`));
    });
  });
}

/** `n` concurrent GETs; resolves to their statuses (0 for a network error / abort). */
export async function concurrentGets(urls: string[], init: (i: number) => RequestInit = () => ({})): Promise<number[]> {
  return Promise.all(
    urls.map(async (u, i) => {
      try {
        const r = await fetch(u, init(i));
        await r.arrayBuffer();
        return r.status;
      } catch {
        return 0;
      }
    }),
  );
}
