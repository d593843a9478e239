/** The body of a JSON string with escapes, decoded from its UTF-8 bytes (the strings table of a heap snapshot). */
import { SnapshotCorruptError } from './errors.js';

/** Decode the body of a JSON string that contains escapes (`\n`, `\"`, `\uXXXX` including surrogate pairs). */
export function decodeJsonString(bytes: Buffer, start: number, end: number, source = '<memory>', offset = 0): string {
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    if (bytes[i] !== 0x5c) {
      i++;
      continue;
    }
    if (i > run) out += bytes.toString('utf8', run, i);
    const esc = bytes[i + 1];
    let width = 2;
    switch (esc) {
      case 0x22:
        out += '"';
        break;
      case 0x5c:
        out += '\\';
        break;
      case 0x2f:
        out += '/';
        break;
      case 0x62:
        out += '\b';
        break;
      case 0x66:
        out += '\f';
        break;
      case 0x6e:
        out += '\n';
        break;
      case 0x72:
        out += '\r';
        break;
      case 0x74:
        out += '\t';
        break;
      case 0x75: {
        let code = 0;
        for (let k = i + 2; k < i + 6; k++) {
          const h = k < end ? hexValue(bytes[k]!) : -1;
          if (h < 0) throw new SnapshotCorruptError(source, offset + (k - start), 'invalid \\u escape in a string');
          code = code * 16 + h;
        }
        // Surrogate halves are emitted as separate UTF-16 code units; a pair recombines into one code point.
        out += String.fromCharCode(code);
        width = 6;
        break;
      }
      default:
        throw new SnapshotCorruptError(source, offset + (i - start), 'invalid escape in a string');
    }
    i += width;
    run = i;
  }
  if (end > run) out += bytes.toString('utf8', run, end);
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
