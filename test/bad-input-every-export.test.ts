// Every function exported by every entry point answers bad input (null, a wrong type) with a
// HangwatchError that has a stable code — never a bare TypeError. The list of functions comes from
// the modules' exports, so a new export is covered without editing this test.
import t from 'tap';
import { HangwatchError } from '../lib/errors.js';

const ENTRY_POINTS: Record<string, () => Promise<Record<string, unknown>>> = {
  hangwatch: () => import('../lib/index.js'),
  'hangwatch/report': () => import('../lib/report/index.js'),
  'hangwatch/log': () => import('../lib/export/log-line.js'),
  'hangwatch/heap': () => import('../lib/heap/index.js'),
  'hangwatch/cpu': () => import('../lib/cpu/index.js'),
  'hangwatch/alloc': () => import('../lib/alloc/index.js'),
  'hangwatch/process': () => import('../lib/process/index.js'),
  'hangwatch/express': () => import('../lib/middleware/express.js'),
  'hangwatch/fastify': () => import('../lib/middleware/fastify.js'),
  'hangwatch/prometheus': () => import('../lib/export/prometheus.js'),
  'hangwatch/opentelemetry': () => import('../lib/export/opentelemetry.js'),
};

/** Functions whose every parameter is optional and none can be wrong: called with junk they just work. */
const NO_PARAMETERS = new Set([
  'stopAllocationTracking',
  'getTracedMemory',
  'resetTracedMemoryPeak',
  'isTrackingAllocations',
  'takeAllocationSnapshot',
]);

/** Bad arguments that are valid for one function: a number is a pid for sampleProcess, a file descriptor for jsonLogOutput. */
const VALID_FOR: Record<string, string[]> = { sampleProcess: ['a number'], jsonLogOutput: ['a number'] };

type AnyFunction = (...args: unknown[]) => unknown;
const isClass = (fn: AnyFunction): boolean => /^class\b/.test(Function.prototype.toString.call(fn));

/** The error a call produced, synchronously or as a rejection; `undefined` when it succeeded. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result && typeof (result as Promise<unknown>).then === 'function') await result;
  } catch (error) {
    return error;
  }
  return undefined;
}

const BAD_ARGUMENTS: [string, unknown[]][] = [
  ['null', [null]],
  ['null, null', [null, null]],
  ['a number', [42]],
  ['a symbol', [Symbol('bad')]],
];

for (const [entry, load] of Object.entries(ENTRY_POINTS)) {
  t.test(entry, async (t) => {
    const mod = await load();
    const exported = Object.entries(mod).filter(
      ([name, value]) => typeof value === 'function' && name !== 'default',
    ) as [string, AnyFunction][];
    // Plain functions, and the static methods of exported classes (their factories: fromJSON, load, …).
    // Constructors are not called: instances come from those factories and the functions above.
    const functions = exported.filter(([name, fn]) => !isClass(fn) && !NO_PARAMETERS.has(name));
    for (const [className, cls] of exported.filter(([, fn]) => isClass(fn) && !(fn.prototype instanceof Error))) {
      for (const key of Object.getOwnPropertyNames(cls)) {
        const member = (cls as unknown as Record<string, unknown>)[key];
        if (typeof member === 'function' && !isClass(member as AnyFunction))
          functions.push([`${className}.${key}`, (member as AnyFunction).bind(cls)]);
      }
    }
    // hangwatch/cpu exports types and the CpuStats class (made by CpuProfile.stats()), no function.
    if (entry === 'hangwatch/cpu') t.ok(exported.length > 0, 'exports a class');
    else t.ok(functions.length > 0, 'exports functions');
    for (const [name, fn] of functions) {
      for (const [label, args] of BAD_ARGUMENTS) {
        if (VALID_FOR[name]?.includes(label)) continue;
        const error = await failureOf(() => (fn as (...a: unknown[]) => unknown)(...args));
        const ok =
          error instanceof HangwatchError && typeof error.code === 'string' && /^ERR_[A-Z_]+$/.test(error.code);
        t.ok(
          ok,
          `${name}(${label}): ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : `no error (${String(error)})`}`,
        );
      }
    }
  });
}
