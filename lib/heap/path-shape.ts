/**
 * The shape of a retainer path: what stays the same for every member of one growing collection.
 * Array indices and Map slots differ from member to member, and so do the property names of an
 * object used as a dictionary (`sessions[sid] = …`, `cache[url] = …`): those collapse to `<key>`,
 * so that one store of thousands of entries is one leak cluster, not thousands.
 *
 * A property name is a dynamic key when its holder is used as a dictionary — it has at least
 * `DICTIONARY_MIN_PROPERTIES` named properties, which no object written by hand has — or when the
 * name itself looks generated (a long token with digits: ids, hashes, UUIDs, session ids).
 */
import type { HeapSnapshot } from './heap-snapshot.js';

const DICTIONARY_MIN_PROPERTIES = 64;
const GENERATED_MIN_LENGTH = 16;
/** The global object's properties are global variables, named by hand however many there are. */
const GLOBAL_OBJECT = /^(?:global|globalThis|Window|\(Global object\))(?:\s|\/|$)/;

/** A long token with at least one digit and one letter and no spaces: `a3f9…`, a UUID, a session id. */
export function looksGenerated(name: string): boolean {
  return name.length >= GENERATED_MIN_LENGTH && !/\s/.test(name) && /\d/.test(name) && /[a-z]/i.test(name);
}

export class PathShaper {
  readonly #snapshot: HeapSnapshot;
  readonly #propertyType: number;
  readonly #elementType: number;
  readonly #hiddenType: number;
  readonly #dictionary = new Map<number, boolean>();

  constructor(snapshot: HeapSnapshot) {
    this.#snapshot = snapshot;
    this.#propertyType = snapshot.meta.edgeTypes.indexOf('property');
    this.#elementType = snapshot.meta.edgeTypes.indexOf('element');
    this.#hiddenType = snapshot.meta.edgeTypes.indexOf('hidden');
  }

  /** Whether `holder` has so many named properties that it is a dictionary (cached per holder); never the global object. */
  #isDictionary(holder: number): boolean {
    let known = this.#dictionary.get(holder);
    if (known === undefined) {
      if (GLOBAL_OBJECT.test(this.#snapshot.nodeName(holder))) {
        this.#dictionary.set(holder, false);
        return false;
      }
      const { firstEdge, edgeType } = this.#snapshot.raw;
      let properties = 0;
      for (let e = firstEdge[holder]!; e < firstEdge[holder + 1]! && properties < DICTIONARY_MIN_PROPERTIES; e++)
        if (edgeType[e] === this.#propertyType) properties++;
      known = properties >= DICTIONARY_MIN_PROPERTIES;
      this.#dictionary.set(holder, known);
    }
    return known;
  }

  /**
   * How edge `e` from `holder` reads in a path shape: `null` when it is kept as it is, else the
   * placeholder it collapses to (`[]` for an index, `<key>` for a dynamic property name).
   */
  collapse(e: number, holder: number): '[]' | '<key>' | null {
    const type = this.#snapshot.raw.edgeType[e];
    if (type === this.#elementType || type === this.#hiddenType) return '[]';
    const name = this.#snapshot.edgeName(e);
    if (typeof name === 'number' || /^\d+$/.test(name)) return '[]';
    if (type === this.#propertyType && (looksGenerated(name) || this.#isDictionary(holder))) return '<key>';
    return null;
  }
}
