/**
 * Node id -> node ordinal lookup on typed arrays (open addressing, linear probing).
 * Node ids are stable for the life of a process, so an index of one snapshot answers
 * "did this object already exist?" for another snapshot of the same process.
 */
const EMPTY = 0;

export class NodeIdIndex {
  private readonly keys: Uint32Array;
  /** ordinal + 1; 0 marks an empty slot. */
  private readonly values: Uint32Array;
  private readonly mask: number;
  readonly size: number;

  constructor(ids: Uint32Array) {
    let capacity = 16;
    while (capacity < ids.length * 2) capacity *= 2;
    this.keys = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
    this.mask = capacity - 1;
    const { keys, values, mask } = this;
    for (let ordinal = 0; ordinal < ids.length; ordinal++) {
      const id = ids[ordinal]!;
      let slot = hash(id) & mask;
      while (values[slot] !== EMPTY && keys[slot] !== id) slot = (slot + 1) & mask;
      keys[slot] = id;
      values[slot] = ordinal + 1;
    }
    this.size = ids.length;
  }

  /** Ordinal of the node with this id, or -1. */
  get(id: number): number {
    const { keys, values, mask } = this;
    let slot = hash(id) & mask;
    for (;;) {
      const v = values[slot]!;
      if (v === EMPTY) return -1;
      if (keys[slot] === id) return v - 1;
      slot = (slot + 1) & mask;
    }
  }

  has(id: number): boolean {
    return this.get(id) >= 0;
  }
}

function hash(id: number): number {
  return Math.imul(id ^ (id >>> 16), 0x45d9f3b) ^ (id >>> 7);
}
