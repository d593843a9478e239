/**
 * Where the part of a retainer path that a user recognises begins. A shortest path from the GC
 * roots first crosses V8's and Node's own structures (`(GC roots) / Node / Environment / … /
 * system / Context / …`); what a user knows starts at the first object of a class the program or
 * one of its packages defined (`MemoryStore`, `SessionRecord`), the first closure variable
 * (`(context sessionCache)`) or the first global variable (`global.cache`).
 */

/** The parts of a path step this needs (a `LeakPathStep` has them). */
export interface PathStepLike {
  name: string;
  type: string;
  className: string;
  edge: { type: string; name: string | number } | null;
}

/** Constructors of the language, of V8 and of Node itself: a user did not write them. */
const BUILT_IN = new Set([
  'Object',
  'Array',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'Function',
  'Promise',
  'Error',
  'TypeError',
  'RangeError',
  'RegExp',
  'Date',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Uint8ClampedArray',
  'Buffer',
  'FastBuffer',
  'Arguments',
  'Generator',
  'AsyncGenerator',
  'Proxy',
  'Symbol',
  'Number',
  'String',
  'Boolean',
  'BigInt',
  'Math',
  'JSON',
  'Reflect',
  'Atomics',
  'Intl',
  'global',
  'globalThis',
  'Window',
  'process',
  'Module',
  'EventEmitter',
  'Environment',
  'Timeout',
  'TimersList',
  'Immediate',
  'ImmediateList',
  'PriorityQueue',
  'Server',
  'Socket',
  'TCP',
  'Pipe',
  'TTY',
  'WriteStream',
  'ReadStream',
  'IncomingMessage',
  'ServerResponse',
  'ClientRequest',
  'Agent',
  'HTTPParser',
  'AsyncResource',
  'AsyncLocalStorage',
  'AbortController',
  'AbortSignal',
  'ModuleJob',
  'ModuleWrap',
  'ModuleMap',
  'ModuleLoader',
  'Loader',
  'SafeMap',
  'SafeSet',
  'SafeWeakMap',
  'SafePromise',
  'FreeList',
  'WritableState',
  'ReadableState',
  'BufferList',
  'Performance',
  'PerformanceObserver',
  'Histogram',
  'PerformanceEntry',
]);

const GLOBAL_HOLDERS = new Set(['global', 'globalThis', 'Window', '(Global object)']);

function userDefinedObject(step: PathStepLike): boolean {
  if (step.type !== 'object') return false;
  const name = step.className;
  if (
    !name ||
    name.startsWith('(') ||
    name.startsWith('system /') ||
    name.startsWith('Node /') ||
    name.startsWith('Window /')
  )
    return false;
  if (BUILT_IN.has(name)) return false;
  // Node's internals in a snapshot are ordinary JS classes too, but primordials (`SafeMap`) and
  // names with `Wrap`/`Binding` are its native bridges.
  return !/(?:Wrap|Binding|Handle)$/.test(name);
}

/**
 * Index of the first step a user recognises (see the file comment): a step whose next edge is a
 * closure variable or a global variable, or a user-defined object. 0 when there is none.
 */
export function userPathStart(path: PathStepLike[]): number {
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!;
    const next = path[i + 1]!.edge;
    if (next?.type === 'context' && typeof next.name === 'string' && !next.name.startsWith('(')) return i;
    if (next?.type === 'property' && GLOBAL_HOLDERS.has(step.className.split(' / ')[0]!)) return i;
    if (userDefinedObject(step)) return i;
  }
  return 0;
}
