/**
 * Where the preload module is, and the NODE_OPTIONS that load it into a child process.
 * Found from this module's own location (no `import.meta`: lib/ also compiles to CommonJS):
 * the preload is `../register.js` next to it in dist, `../register.ts` when running from source
 * (then tsx is loaded first so that the child can import TypeScript).
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseV8Stack } from '../capture/stack-frame.js';

function ownFile(): string {
  const frame = parseV8Stack(new Error().stack ?? '').find((f) => /preload-location\.[cm]?[jt]s$/.test(f.file));
  if (!frame) throw new Error('hangwatch: cannot locate its own files (stack traces unavailable)');
  return frame.file;
}

export interface PreloadLocation {
  /** Absolute path of the preload module. */
  registerPath: string;
  /** `--import` arguments, in order, to put in NODE_OPTIONS (file URLs, so no quoting is needed). */
  importArgs: string[];
  /**
   * Environment the program needs for them. From source: ESBUILD_WORKER_THREADS=0. tsx, put into
   * the program only to load the TypeScript preload, also compiles the program's CommonJS files
   * as they are required, with esbuild's synchronous API; that API's worker thread was seen to
   * leave the main thread waiting forever (Atomics.wait without a timeout, in tsx's require hook)
   * while a cold compile cache made an Express app's start-up long — no sample, no exit on SIGINT.
   * esbuild's child-process path for the same calls does not hang.
   */
  env: Record<string, string>;
}

export function preloadLocation(): PreloadLocation {
  const here = ownFile();
  const ext = extname(here);
  const registerPath = join(dirname(here), '..', `register${ext}`);
  const importArgs: string[] = [];
  const env: Record<string, string> = {};
  if (ext === '.ts') {
    const tsx = createRequire(registerPath).resolve('tsx');
    importArgs.push(`--import=${pathToFileURL(tsx).href}`);
    env.ESBUILD_WORKER_THREADS = '0';
  }
  importArgs.push(`--import=${pathToFileURL(registerPath).href}`);
  return { registerPath, importArgs, env };
}

/** The environment that loads the preload: NODE_OPTIONS with it added after what was already there, and what it needs (`PreloadLocation.env`). */
export function environmentWithPreload(existingNodeOptions: string | undefined): Record<string, string> {
  const { importArgs, env } = preloadLocation();
  return { ...env, NODE_OPTIONS: [existingNodeOptions?.trim(), ...importArgs].filter(Boolean).join(' ') };
}
