/**
 * The optional native addons (`v8-profiler-next`, `heapdump`) are built per Node line and may not
 * build or load on some. Their tests skip then, with the load error in the tap output, instead of
 * failing the suite or passing without having run.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type NativeAddon = 'v8-profiler-next' | 'heapdump';

/** Why `name` cannot be used on this Node line (for tap's `skip`), or undefined when it loads. */
export function nativeAddonUnavailable(name: NativeAddon): string | undefined {
  try {
    require(name);
    return undefined;
  } catch (error) {
    // Node's dlopen message spans lines ("The module '…'" / "was compiled against …"): keep it on one line,
    // without the require stack and the advice that follow.
    const message = (error instanceof Error ? error.message : String(error))
      .split(/\n(?:Require stack:|Please try)/)[0]!
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    const code = (error as { code?: unknown }).code;
    return `${name} does not load on Node ${process.versions.node}${typeof code === 'string' ? ` (${code})` : ''}: ${message.slice(0, 300)}`;
  }
}
