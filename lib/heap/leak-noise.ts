/**
 * What the leak finder drops as noise unless asked for V8 internals: internal classes, what hangs
 * under V8's bookkeeping roots, V8 metadata (allocation sites, feedback, compiled code) and
 * hangwatch's own process-wide state.
 */
import type { HeapSnapshot } from './heap-snapshot.js';

/** Classes that are V8 internals rather than program objects. */
export function internalClasses(names: string[]): Uint8Array {
  const out = new Uint8Array(names.length);
  const internalTypes = new Set([
    '(system)',
    '(compiled code)',
    '(synthetic)',
    '(object shape)',
    '(array)',
    '(number)',
    '(hidden)',
    '(code)',
  ]);
  names.forEach((name, c) => {
    // "Node / …" are Node's C++ objects (embedder graph); their ids follow native addresses and are not stable.
    if (internalTypes.has(name) || name.startsWith('system / ') || name.startsWith('Node / ')) out[c] = 1;
  });
  return out;
}

/** GC sub-roots whose objects are V8 bookkeeping, not program state. */
const NOISE_ROOTS = new Set([
  '(Internalized strings)',
  '(External strings)',
  '(Read-only roots)',
  '(Smi roots)',
  '(Startup object cache)',
  '(Shared heap object cache)',
  '(Compilation cache)',
  '(Builtins)',
  '(Code flusher)',
  '(Weak collections)',
]);

export function noiseRoots(snapshot: HeapSnapshot): Uint8Array {
  const out = new Uint8Array(snapshot.nodeCount);
  const synthetic = snapshot.meta.nodeTypes.indexOf('synthetic');
  const { nodeType, nodeName, strings } = snapshot.raw;
  for (let v = 0; v < snapshot.nodeCount; v++) {
    if (nodeType[v] === synthetic && NOISE_ROOTS.has(strings[nodeName[v]!]!)) out[v] = 1;
  }
  return out;
}

/**
 * hangwatch keeps its process-wide state under `Symbol.for('hangwatch.…')` keys (its record of
 * its own pauses, for one): what hangs there is the profiler's, not the program's.
 */
export function hangwatchEdges(snapshot: HeapSnapshot): (e: number) => 0 | 1 {
  const { strings, edgeType, edgeNameOrIndex } = snapshot.raw;
  const property = snapshot.meta.edgeTypes.indexOf('property');
  const own = Uint8Array.from(strings, (s) => (s.startsWith('<symbol hangwatch.') ? 1 : 0));
  return (e) => (edgeType[e] === property && own[edgeNameOrIndex[e]!] ? 1 : 0);
}

/** Objects held by these are V8 metadata (literal boilerplates kept by allocation sites, constants of compiled code). */
const METADATA_HOLDERS = new Set([
  'system / AllocationSite',
  'system / FeedbackVector',
  'system / FeedbackCell',
  'system / ScriptContextTable',
  'system / Script',
]);

export function metadataNodes(snapshot: HeapSnapshot): Uint8Array {
  const { nodeType, nodeName, strings } = snapshot.raw;
  const code = snapshot.meta.nodeTypes.indexOf('code');
  const holderName = Uint8Array.from(strings, (s) => (METADATA_HOLDERS.has(s) ? 1 : 0));
  const out = new Uint8Array(snapshot.nodeCount);
  for (let v = 0; v < snapshot.nodeCount; v++) if (nodeType[v] === code || holderName[nodeName[v]!]) out[v] = 1;
  return out;
}
