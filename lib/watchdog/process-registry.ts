/**
 * The process-wide registry of hangwatch's singletons: the watchdog, the hang runtime and the
 * loop heartbeat of a thread.
 *
 * One process can load several copies of hangwatch — the ESM and the CommonJS build side by side
 * (an app `import`s it while a dependency `require`s it), or two versions in one dependency tree.
 * Module-level singletons would give each copy its own watchdog worker pausing and resuming the
 * same thread through the inspector, and two debuggers fighting over one thread hang or crash it.
 * So the singletons live on `globalThis` under a `Symbol.for` key (one per thread: each thread
 * has its own `globalThis`): the first copy creates them, later copies use the same objects.
 *
 * Sharing objects between copies means sharing their shapes: `REGISTRY_PROTOCOL` names that
 * contract (the methods of Watchdog, HangRuntime and LoopHeartbeat and the objects passed to
 * them: operations, heartbeat subscribers, reports). Change any of them incompatibly and bump it.
 * A copy that finds a registry of another protocol does not join it and never starts a watchdog
 * of its own: it runs without stack capture (`foreignRegistry()` says why), so that two
 * watchdogs never pause the same thread.
 */

export const REGISTRY_KEY: unique symbol = Symbol.for('hangwatch.process-registry') as never;
/** Version of the contract between copies sharing the registry. */
export const REGISTRY_PROTOCOL = 1;

interface Registry {
  readonly protocol: number;
  /** Where the copy that created the registry was loaded from (for messages). */
  readonly createdBy: string;
  readonly services: Map<string, unknown>;
}

const here = describeThisCopy();

function describeThisCopy(): string {
  // The first frame outside V8 internals is this module's own file (ESM or CJS build alike).
  const line = (new Error().stack ?? '').split('\n')[1] ?? '';
  const m = /\((.*):\d+:\d+\)$/.exec(line) ?? /at (.*):\d+:\d+$/.exec(line);
  return m ? m[1]! : 'unknown location';
}

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (!r) {
    r = { protocol: REGISTRY_PROTOCOL, createdBy: here, services: new Map() };
    // Not enumerable, not writable: nothing can replace it by accident.
    Object.defineProperty(globalThis, REGISTRY_KEY, {
      value: r,
      enumerable: false,
      writable: false,
      configurable: false,
    });
  }
  return r;
}

/**
 * Why this copy cannot share the registry (it was created by a copy speaking another protocol),
 * or undefined when it can.
 */
export function foreignRegistry(): string | undefined {
  const r = registry();
  if (r.protocol === REGISTRY_PROTOCOL) return undefined;
  return `another copy of hangwatch (registry protocol ${String(r.protocol)}, loaded from ${String(r.createdBy)}) watches this thread; this copy (protocol ${REGISTRY_PROTOCOL}, ${here}) does not pause it too`;
}

/**
 * The thread's one instance of the service `name`, created by `create` on first use by any copy.
 * With a foreign registry, `fallback` makes this copy's own instance (one that pauses nothing).
 */
export function processSingleton<T>(name: string, create: () => T, fallback: (reason: string) => T = create): T {
  const r = registry();
  if (r.protocol !== REGISTRY_PROTOCOL) return localSingleton(name, () => fallback(foreignRegistry()!));
  let s = r.services.get(name) as T | undefined;
  if (s === undefined) {
    s = create();
    r.services.set(name, s);
  }
  return s;
}

const local = new Map<string, unknown>();

function localSingleton<T>(name: string, create: () => T): T {
  let s = local.get(name) as T | undefined;
  if (s === undefined) {
    s = create();
    local.set(name, s);
  }
  return s;
}
