/**
 * Configuration of the zero-code preload (`--import hangwatch/register`), read from `HANGWATCH_*`
 * environment variables. A bad value never stops the program: it is reported once on stderr and
 * the default is used.
 */
import { closestName } from '../closest-name.js';
import { CHANNEL_ENV } from './doctor-channel.js';

/**
 * Every `HANGWATCH_*` environment variable hangwatch reads (preload, watchdog, CLI helpers) or documents
 * (`HANGWATCH_DIAGNOSTICS_TOKEN`, read by the application in the docs' example). Any other `HANGWATCH_`
 * variable is most likely a misspelling: the preload warns once, naming the closest of these.
 */
export const KNOWN_ENV_VARIABLES: readonly string[] = [
  'HANGWATCH_BLOCK_MS',
  'HANGWATCH_CAPTURE_STACKS',
  'HANGWATCH_REPORT_DIR',
  'HANGWATCH_FORMAT',
  'HANGWATCH_STDERR',
  'HANGWATCH_SAMPLE_MS',
  'HANGWATCH_MAX_REPORTS',
  CHANNEL_ENV,
  'HANGWATCH_HANG_MS',
  'HANGWATCH_HANG_ACTION',
  'HANGWATCH_HANG_EXIT_CODE',
  'HANGWATCH_GC',
  'HANGWATCH_SYNC_IO',
  'HANGWATCH_WORKER_THREADS',
  'HANGWATCH_SNAPSHOT_DIR',
  'HANGWATCH_SNAPSHOT_AT_MS',
  'HANGWATCH_LIVE_HEAP_MS',
  'HANGWATCH_PROCESS_SAMPLER',
  'HANGWATCH_STACKS_WITH_DEBUGGER',
  'HANGWATCH_DEBUG',
  'HANGWATCH_CPU_PROF_DIR',
  'HANGWATCH_CPU_PROF_INTERVAL',
  'HANGWATCH_DIAGNOSTICS_TOKEN',
];

/** One warning per `HANGWATCH_` variable of `env` that hangwatch does not know, with the closest known name. */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.toUpperCase().startsWith('HANGWATCH_') || KNOWN_ENV_VARIABLES.includes(name)) continue;
    const suggestion = closestName(name, KNOWN_ENV_VARIABLES);
    warnings.push(
      `${name} is not a hangwatch setting and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
    );
  }
  return warnings;
}

export interface PreloadConfig {
  /** HANGWATCH_BLOCK_MS: a block of the event loop at least this long is reported. Default 100. */
  blockThresholdMs: number;
  /** HANGWATCH_CAPTURE_STACKS: capture the blocked stack (0/1). Default 1. */
  captureStacks: boolean;
  /** HANGWATCH_REPORT_DIR: where report files go; `off` for none. Default `hangwatch-reports` (relative to the working directory). */
  reportDir: string | undefined;
  /** HANGWATCH_FORMAT: `text` or `json`, for stderr and files. Default text. */
  format: 'text' | 'json';
  /** HANGWATCH_STDERR: print reports on stderr (0/1). Default 1. */
  stderr: boolean;
  /** HANGWATCH_SAMPLE_MS: interval of the resource sampler, ms. Default 1000. */
  sampleIntervalMs: number;
  /** HANGWATCH_MAX_REPORTS: at most this many reports (stderr and files) per process. Default 100. */
  maxReports: number;
  /** HANGWATCH_CHANNEL: NDJSON file the `hangwatch` CLI reads (set by `hangwatch run`/`doctor`). */
  channelPath: string | undefined;
  /**
   * HANGWATCH_HANG_MS: the process-wide hang watchdog (`watchEventLoop`): an event loop that does not
   * turn for this long is reported while it is still stuck. `0` turns it off. Default 10000.
   */
  hangTimeoutMs: number;
  /** HANGWATCH_HANG_ACTION: `report` (default) or `exit` (end the process after the report, like faulthandler's exit=True). */
  hangAction: 'report' | 'exit';
  /** HANGWATCH_HANG_EXIT_CODE: exit code of `HANGWATCH_HANG_ACTION=exit`. Default 70. */
  hangExitCode: number;
  /**
   * HANGWATCH_GC: run the GC monitor, which reports a suspected leak when the heap after major GCs
   * keeps growing (0/1). Default 0, and 1 under `hangwatch run`/`doctor`: observing every GC costs
   * ~2% throughput on an allocation-heavy server (bench:doctor, BENCH_PARTS=1), which a bare
   * preload must not impose silently; under run/doctor the sampler observes GCs anyway.
   */
  gcMonitor: boolean;
  /** HANGWATCH_SYNC_IO: trace synchronous fs/child_process/zlib/crypto calls after start-up, reported by call site when the program ends (0/1). Default 0. */
  syncIo: boolean;
  /** HANGWATCH_WORKER_THREADS: monitor worker threads too (block monitor and hang watchdog in each, reports only) (0/1). Default 1. */
  workerThreads: boolean;
}

export const PRELOAD_DEFAULTS: Readonly<PreloadConfig> = Object.freeze({
  blockThresholdMs: 100,
  captureStacks: true,
  reportDir: 'hangwatch-reports',
  format: 'text',
  stderr: true,
  sampleIntervalMs: 1000,
  maxReports: 100,
  channelPath: undefined,
  hangTimeoutMs: 10_000,
  hangAction: 'report',
  hangExitCode: 70,
  gcMonitor: false,
  syncIo: false,
  workerThreads: true,
});

export interface ParsedPreloadConfig {
  config: PreloadConfig;
  /** One message per ignored variable. */
  warnings: string[];
}

function parseNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  warnings: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    warnings.push(`${name}=${JSON.stringify(raw)} is not a number from ${min} to ${max}; using ${fallback}`);
    return fallback;
  }
  return value;
}

function parseFlag(env: NodeJS.ProcessEnv, name: string, fallback: boolean, warnings: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  warnings.push(`${name}=${JSON.stringify(env[name])} is not 0/1; using ${fallback ? 1 : 0}`);
  return fallback;
}

function parseHangTimeout(env: NodeJS.ProcessEnv, warnings: string[]): number {
  if (env.HANGWATCH_HANG_MS?.trim() === '0') return 0;
  return parseNumber(env, 'HANGWATCH_HANG_MS', PRELOAD_DEFAULTS.hangTimeoutMs, 20, 2 ** 31 - 1, warnings);
}

function parseHangAction(env: NodeJS.ProcessEnv, warnings: string[]): 'report' | 'exit' {
  const raw = env.HANGWATCH_HANG_ACTION?.trim().toLowerCase();
  if (raw === undefined || raw === '') return PRELOAD_DEFAULTS.hangAction;
  if (raw === 'report' || raw === 'exit') return raw;
  warnings.push(
    `HANGWATCH_HANG_ACTION=${JSON.stringify(env.HANGWATCH_HANG_ACTION)} is not "report" or "exit"; using report`,
  );
  return PRELOAD_DEFAULTS.hangAction;
}

export function readPreloadConfig(env: NodeJS.ProcessEnv = process.env): ParsedPreloadConfig {
  const warnings: string[] = unknownEnvWarnings(env);
  const rawFormat = env.HANGWATCH_FORMAT?.trim().toLowerCase();
  let format: 'text' | 'json' = PRELOAD_DEFAULTS.format;
  if (rawFormat === 'text' || rawFormat === 'json') format = rawFormat;
  else if (rawFormat)
    warnings.push(`HANGWATCH_FORMAT=${JSON.stringify(env.HANGWATCH_FORMAT)} is not "text" or "json"; using text`);
  const rawDir = env.HANGWATCH_REPORT_DIR;
  const reportDir =
    rawDir === undefined
      ? PRELOAD_DEFAULTS.reportDir
      : rawDir.trim() === '' || rawDir.trim().toLowerCase() === 'off'
        ? undefined
        : rawDir;
  const config: PreloadConfig = {
    blockThresholdMs: parseNumber(
      env,
      'HANGWATCH_BLOCK_MS',
      PRELOAD_DEFAULTS.blockThresholdMs,
      10,
      3_600_000,
      warnings,
    ),
    captureStacks: parseFlag(env, 'HANGWATCH_CAPTURE_STACKS', PRELOAD_DEFAULTS.captureStacks, warnings),
    reportDir,
    format,
    stderr: parseFlag(env, 'HANGWATCH_STDERR', PRELOAD_DEFAULTS.stderr, warnings),
    sampleIntervalMs: parseNumber(
      env,
      'HANGWATCH_SAMPLE_MS',
      PRELOAD_DEFAULTS.sampleIntervalMs,
      20,
      3_600_000,
      warnings,
    ),
    maxReports: Math.floor(
      parseNumber(env, 'HANGWATCH_MAX_REPORTS', PRELOAD_DEFAULTS.maxReports, 0, 1_000_000, warnings),
    ),
    channelPath: env[CHANNEL_ENV] || undefined,
    hangTimeoutMs: parseHangTimeout(env, warnings),
    hangAction: parseHangAction(env, warnings),
    hangExitCode: Math.floor(
      parseNumber(env, 'HANGWATCH_HANG_EXIT_CODE', PRELOAD_DEFAULTS.hangExitCode, 0, 255, warnings),
    ),
    gcMonitor: parseFlag(env, 'HANGWATCH_GC', Boolean(env[CHANNEL_ENV]) || PRELOAD_DEFAULTS.gcMonitor, warnings),
    syncIo: parseFlag(env, 'HANGWATCH_SYNC_IO', PRELOAD_DEFAULTS.syncIo, warnings),
    workerThreads: parseFlag(env, 'HANGWATCH_WORKER_THREADS', PRELOAD_DEFAULTS.workerThreads, warnings),
  };
  return { config, warnings };
}
