/**
 * Who may call the diagnostics handler: loopback callers (unless remote ones are allowed) with the
 * bearer token, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address !== undefined && typeof address !== 'string')
    throw new InvalidOptionError('address', 'an IP address string or undefined', address);
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** What a token is compared as: its SHA-256, so that both sides have the same length. */
export const tokenDigest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of an `Authorization: Bearer <token>` header against the token's digest. */
export function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  const given = tokenDigest(m ? (m[1] as string) : '');
  return timingSafeEqual(expected, given) && m !== null;
}
