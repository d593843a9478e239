/**
 * Option validation shared by every public function: each check either returns the
 * (defaulted) value or throws `InvalidOptionError` naming the option.
 */
import { closestName } from './closest-name.js';
import { InvalidOptionError } from './errors.js';

/** The keys an options object may have (see `optionKeys`), or `ANY_KEYS` for an open map. */
export interface OptionKeys {
  readonly list: readonly string[];
  readonly set: ReadonlySet<string> | undefined;
}

/** An open map (route → ms, context facts): any key is valid. */
export const ANY_KEYS: OptionKeys = { list: [], set: undefined };

/**
 * The keys of an options interface, listed once as `{ key: true, ... }`: TypeScript rejects a list that
 * misses a key of `T` or has one `T` does not, so the check cannot drift from the type.
 */
export function optionKeys<T extends object>(keys: Record<keyof Required<T>, true>): OptionKeys {
  const list = Object.keys(keys);
  return { list, set: new Set(list) };
}

/**
 * An optional options object: `undefined` gives `{}`; anything but a plain object, or an object with a
 * key not in `keys` (a misspelling), is an `InvalidOptionError` (for an unknown key with the closest
 * valid key in `suggestion`). Options objects are checked once where they are received, never per call of a hot path.
 */
export function optionalObject<T extends object>(name: string, value: unknown, keys: OptionKeys): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object', value);
  }
  const known = keys.set;
  if (known !== undefined) {
    for (const key in value) {
      if (!known.has(key))
        throw InvalidOptionError.unknownKey(
          name === 'options' ? key : `${name}.${key}`,
          closestName(key, keys.list),
          keys.list,
        );
    }
  }
  return value as Partial<T>;
}

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Whether `min` itself is allowed (default true). */
  minInclusive?: boolean;
}

export function numberOption(name: string, value: unknown, fallback: number, range: NumberRange = {}): number {
  if (value === undefined) return fallback;
  return requiredNumber(name, value, range);
}

export function requiredNumber(name: string, value: unknown, range: NumberRange = {}): number {
  const { min, max, integer = false, minInclusive = true } = range;
  // The description is built only on failure: validation runs on hot paths.
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (min !== undefined && (minInclusive ? value < min : value <= min)) ||
    (max !== undefined && value > max)
  ) {
    throw new InvalidOptionError(name, describeRange(range), value);
  }
  return value;
}

function describeRange({ min, max, integer, minInclusive = true }: NumberRange): string {
  const kind = integer ? 'a finite integer' : 'a finite number';
  const parts: string[] = [];
  if (min !== undefined) parts.push(`${minInclusive ? '>=' : '>'} ${min}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value);
  return value;
}

export function stringOption(name: string, value: unknown, fallback: string): string;
export function stringOption(name: string, value: unknown, fallback?: undefined): string | undefined;
export function stringOption(name: string, value: unknown, fallback?: string): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new InvalidOptionError(name, 'a string', value);
  return value;
}

export function enumOption<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

export function functionOption<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
  return value as F;
}

export function requiredFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F {
  if (typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
  return value as F;
}

/** A required object argument (a report, an event): anything else is an `InvalidOptionError`. */
export function requiredObject<T extends object>(name: string, value: unknown, what = 'an object'): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidOptionError(name, what, value);
  return value as T;
}

/** A required array argument (stack frames, a path). */
export function requiredArray<T>(name: string, value: unknown, what = 'an array'): T[] {
  if (!Array.isArray(value)) throw new InvalidOptionError(name, what, value);
  return value as T[];
}
