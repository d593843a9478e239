/**
 * Where hangwatch's own code lives, found at load time from this module's stack frame (no
 * `import.meta`, so it works in the ESM and CommonJS builds, from source and from `dist/`). Lets
 * profiles tell the profiler's own work from the user's. If the stack cannot be read (a custom
 * `Error.prepareStackTrace`), nothing is treated as hangwatch's.
 */
import { parseV8Stack, type StackFrame } from './stack-frame.js';

const ROOTS: string[] = (() => {
  try {
    const here = parseV8Stack(new Error().stack ?? '')[0]?.file ?? '';
    const cut = here.lastIndexOf('/lib/capture/own-files.');
    if (cut <= 0) return [];
    const root = here.slice(0, cut);
    const pkg = root.replace(/\/dist\/(esm|cjs)$/, '');
    return pkg === root ? [root] : [root, pkg];
  } catch {
    return [];
  }
})();

/** The folder holding hangwatch's package.json (the package root), or undefined if unknown. */
export function hangwatchPackageRoot(): string | undefined {
  return ROOTS[ROOTS.length - 1];
}

export function isHangwatchFile(file: string): boolean {
  for (const root of ROOTS) {
    if (file.startsWith(`${root}/lib/`) || file.startsWith(`${root}/native-free-fallbacks/`)) return true;
  }
  return false;
}

/** A frame of hangwatch's own code (source-mapped or generated position). */
export function isHangwatchFrame(frame: StackFrame): boolean {
  return isHangwatchFile(frame.file) || (frame.generated !== undefined && isHangwatchFile(frame.generated.file));
}
