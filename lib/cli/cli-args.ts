/**
 * Argument handling shared by the `hangwatch` subcommands, on `node:util` `parseArgs`: options
 * before `--`, the command to run after it; `UsageError` for anything wrong (the dispatcher prints
 * it with the usage and exits 2).
 */
import { constants } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** What followed `--` (the command to run), empty when there was no `--`. */
  command: string[];
}

export interface ParseCommandLineOptions {
  /** Arguments that are not options are allowed (and returned in `positionals`). */
  allowPositionals?: boolean;
  /**
   * The command to run may also start without `--`, at the first argument that is not an option
   * or an option's value: `hangwatch cpu node app.js --flag` leaves `--flag` to the program.
   */
  commandAtFirstPositional?: boolean;
}

export function parseCommandLine(
  argv: string[],
  options: OptionSpec,
  { allowPositionals = false, commandAtFirstPositional = false }: ParseCommandLineOptions = {},
): ParsedCommandLine {
  const spec: OptionSpec = { help: { type: 'boolean', short: 'h' }, ...options };
  const end = commandAtFirstPositional ? firstCommandIndex(argv, spec) : argv.indexOf('--');
  const own = end < 0 ? argv : argv.slice(0, end);
  const command = end < 0 ? [] : argv.slice(argv[end] === '--' ? end + 1 : end);
  try {
    const { values, positionals } = parseArgs({ args: own, options: spec, strict: true, allowPositionals });
    return { values: values as ParsedCommandLine['values'], positionals, command };
  } catch (error) {
    // --help wins over the mistakes next to it: the user asked how to write the line.
    if (asksForHelp(own, spec)) return { values: { help: true }, positionals: [], command: [] };
    throw new UsageError((error as Error).message);
  }
}

function asksForHelp(args: string[], spec: OptionSpec): boolean {
  const { tokens } = parseArgs({ args, options: spec, strict: false, allowPositionals: true, tokens: true });
  return tokens.some((token) => token.kind === 'option' && token.name === 'help');
}

/** Index of the `--` or of the first argument that is neither an option nor an option's value; -1 if none. */
function firstCommandIndex(argv: string[], spec: OptionSpec): number {
  // Lenient here (an unknown option is a token like another); the strict parse that follows reports it.
  const { tokens } = parseArgs({ args: argv, options: spec, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'option-terminator' || token.kind === 'positional') return token.index;
  }
  return -1;
}

/** A numeric option: undefined when absent, a UsageError when not a number in range. */
export function numberArg(
  values: ParsedCommandLine['values'],
  name: string,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}; got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

export function stringArg(values: ParsedCommandLine['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Exit code of a child that ended by `code` or `signal`, the way shells report it. */
export function exitCodeOf(code: number | undefined, signal: NodeJS.Signals | undefined): number {
  if (code !== undefined) return code;
  return signal ? 128 + ((constants.signals as Record<string, number>)[signal] ?? 0) : 1;
}

const PLAIN_PROGRESS_EVERY_MS = 10_000;

/** Writes progress on stderr: one updating line on a terminal, a few plain lines otherwise. */
export class Progress {
  readonly #enabled: boolean;
  readonly #tty: boolean;
  #lastLength = 0;
  #lastPlainAt = 0;

  constructor(enabled: boolean) {
    this.#enabled = enabled;
    this.#tty = Boolean(process.stderr.isTTY);
  }

  /** A transient status: an updating line on a terminal, else a plain line every 10 s at most. */
  update(text: string): void {
    if (!this.#enabled) return;
    if (!this.#tty) {
      const now = Date.now();
      if (now - this.#lastPlainAt < PLAIN_PROGRESS_EVERY_MS) return;
      if (this.#lastPlainAt) process.stderr.write(`${text}\n`);
      this.#lastPlainAt = now;
      return;
    }
    const padded = text.padEnd(this.#lastLength);
    this.#lastLength = text.length;
    process.stderr.write(`\r${padded}`);
  }

  /** A lasting line. */
  log(text: string): void {
    if (!this.#enabled) return;
    if (this.#tty && this.#lastLength) {
      process.stderr.write(`\r${' '.repeat(this.#lastLength)}\r`);
      this.#lastLength = 0;
    }
    process.stderr.write(`${text}\n`);
  }
}
