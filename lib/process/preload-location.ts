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
}

export function preloadLocation(): PreloadLocation {
  const here = ownFile();
  const ext = extname(here);
  const registerPath = join(dirname(here), '..', `register${ext}`);
  const importArgs: string[] = [];
  if (ext === '.ts') {
    const tsx = createRequire(registerPath).resolve('tsx');
    importArgs.push(`--import=${pathToFileURL(tsx).href}`);
  }
  importArgs.push(`--import=${pathToFileURL(registerPath).href}`);
  return { registerPath, importArgs };
}

/** NODE_OPTIONS with the preload added after what was already there. */
export function nodeOptionsWithPreload(existing: string | undefined): string {
  return [existing?.trim(), ...preloadLocation().importArgs].filter(Boolean).join(' ');
}
