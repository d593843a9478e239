/**
 * Random (version 4) UUIDs for requests that arrive without an id, made in batches: one
 * `randomFillSync` and one string for 128 ids, each id a slice of that string. Same ids as
 * `crypto.randomUUID()`, at a fraction of the cost as HTTP headers see them: `randomUUID()`
 * returns a string concatenated from 20 pieces, which `setHeader`'s validation then flattens
 * (~250 ns per request, measured); a slice of a flat string needs no flattening.
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 128;
const UUID_LENGTH = 36;
const DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where byte i of a UUID goes in its 36 characters (8-4-4-4-12 hex digits). */
const POSITION = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const random = new Uint8Array(16 * BATCH);
const text = Buffer.alloc(UUID_LENGTH * BATCH, '-');
let batch = '';
let next = BATCH;

function refill(): void {
  randomFillSync(random);
  for (let u = 0; u < BATCH; u++) {
    const b = u * 16;
    random[b + 6] = ((random[b + 6] as number) & 0x0f) | 0x40; // version 4
    random[b + 8] = ((random[b + 8] as number) & 0x3f) | 0x80; // variant 10
    const t = u * UUID_LENGTH;
    for (let i = 0; i < 16; i++) {
      const byte = random[b + i] as number;
      const p = t + (POSITION[i] as number);
      text[p] = DIGITS[byte >> 4] as number;
      text[p + 1] = DIGITS[byte & 15] as number;
    }
  }
  batch = text.toString('latin1');
  next = 0;
}

/** A new random UUID (RFC 9562 version 4), e.g. `3b241101-e2bb-4255-8caf-4136c566a962`. */
export function newRequestId(): string {
  if (next === BATCH) refill();
  const start = next++ * UUID_LENGTH;
  return batch.slice(start, start + UUID_LENGTH);
}
