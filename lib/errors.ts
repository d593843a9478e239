/**
 * Typed errors. Every error hangwatch throws or rejects with is a `HangwatchError`
 * with a stable `code` string that callers can switch on; the message is for humans
 * and may change between versions, the code may not.
 *
 * Capability folders add their own subclasses (for example `lib/heap/errors.ts`);
 * the codes shared by every capability live here.
 */

export interface HangwatchErrorOptions {
  cause?: unknown;
}

/**
 * Brand of hangwatch's errors, the same in every copy of hangwatch loaded in a process: its value
 * on an error is the list of the error's class names, from its own class up to HangwatchError.
 */
const ERROR_BRAND = Symbol.for('hangwatch.error-classes');

export class HangwatchError extends Error {
  /** Stable, documented identifier of the failure, e.g. `ERR_INVALID_OPTION`. */
  readonly code: string;

  /**
   * `instanceof` holds across copies of hangwatch (the ESM and the CommonJS build, two versions):
   * an error made by another copy is an instance of this copy's class of the same name. Every
   * subclass inherits this; within one copy it is the ordinary prototype check.
   */
  // `this` below is the class `instanceof` was asked about (a subclass too), not HangwatchError.
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the class asked about
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (value === null || typeof value !== 'object') return false;
    const classes = (value as { [ERROR_BRAND]?: unknown })[ERROR_BRAND];
    // biome-ignore lint/complexity/noThisInStatic: the class asked about
    return Array.isArray(classes) && classes.includes(this.name);
  }

  /** The class names of this error up to HangwatchError (computed on access, nothing stored). */
  get [ERROR_BRAND](): string[] {
    const names: string[] = [];
    for (let p: object | null = Object.getPrototypeOf(this); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
      const ctor = (p as { constructor?: { name?: unknown } }).constructor;
      if (typeof ctor?.name === 'string') names.push(ctor.name);
    }
    return names;
  }

  constructor(code: string, message: string, options: HangwatchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }

  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/**
 * An option or argument of a public function has the wrong type or value — or an options object has a
 * key the function does not know (a misspelling such as `timeoutMS`: see `InvalidOptionError.unknownKey`).
 */
export class InvalidOptionError extends HangwatchError {
  declare readonly code: 'ERR_INVALID_OPTION';
  /** Dotted path of the offending option, e.g. `timeoutMs` or `sink.path`. */
  readonly option: string;
  /** For an unknown key: the valid key it most likely meant, if one is close. */
  readonly suggestion: string | undefined;
  constructor(
    option: string,
    expected: string,
    received: unknown,
    unknownKey?: { suggestion: string | undefined; validKeys: readonly string[] },
  ) {
    super(
      'ERR_INVALID_OPTION',
      !unknownKey
        ? `hangwatch: option "${option}" must be ${expected}; received ${describe(received)}`
        : unknownKey.suggestion
          ? `hangwatch: unknown option "${option}" (did you mean \`${unknownKey.suggestion}\`?)`
          : `hangwatch: unknown option "${option}"; valid options: ${unknownKey.validKeys.join(', ')}`,
    );
    this.option = option;
    this.suggestion = unknownKey?.suggestion;
  }

  /** The error for an options key the function does not know; `suggestion` is the closest valid key. */
  static unknownKey(option: string, suggestion: string | undefined, validKeys: readonly string[]): InvalidOptionError {
    return new InvalidOptionError(option, 'a known option', undefined, { suggestion, validKeys });
  }
}

/** A capability needs `node:inspector` and it cannot be used (for example, a debugger holds it). */
export class InspectorUnavailableError extends HangwatchError {
  declare readonly code: 'ERR_INSPECTOR_UNAVAILABLE';
  constructor(message: string, options: HangwatchErrorOptions = {}) {
    super('ERR_INSPECTOR_UNAVAILABLE', message, options);
  }
}

/** Short, safe description of a received value for error messages (never dumps big objects). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return Array.isArray(value) ? 'an array' : 'an object';
  }
}
