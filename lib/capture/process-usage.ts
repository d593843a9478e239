/**
 * CPU and memory of another process, from outside: one interface (process-usage-reader.ts), two
 * backends, and the choice between them.
 *   - procfs (native-free-fallbacks/procfs-process-usage.ts): reads /proc on Linux — no
 *     subprocess, clock-tick precision, plus the thread count and state;
 *   - pidusage (pidusage-process-usage.ts): the `pidusage` package wherever there is no /proc —
 *     `ps` on macOS and the BSDs, `wmic` or PowerShell on Windows.
 * `createProcessUsageReader()` picks /proc when it is there; `HANGWATCH_PROCESS_SAMPLER`
 * (`procfs` | `pidusage` | `auto`) forces one, so that the pidusage path can be tested on Linux.
 */
import { procfsAvailable, ProcfsUsageReader } from '../../native-free-fallbacks/procfs-process-usage.js';
import { InvalidOptionError } from '../errors.js';
import { PidusageUsageReader } from './pidusage-process-usage.js';
import type { ProcessUsageReader } from './process-usage-reader.js';

export type { ProcessUsage, ProcessUsageReader, ProcessUsageSource } from './process-usage-reader.js';

export const PROCESS_SAMPLER_ENV = 'HANGWATCH_PROCESS_SAMPLER';
const BACKENDS = ['auto', 'procfs', 'pidusage'] as const;
export type ProcessUsageBackend = (typeof BACKENDS)[number];

/**
 * A reader for the chosen backend: `auto` (default, or from `HANGWATCH_PROCESS_SAMPLER`) is
 * /proc where it exists, else pidusage.
 *
 * @throws InvalidOptionError for an unknown backend name
 */
export function createProcessUsageReader(
  backend: string = process.env[PROCESS_SAMPLER_ENV] || 'auto',
): ProcessUsageReader {
  if (!(BACKENDS as readonly string[]).includes(backend))
    throw new InvalidOptionError(PROCESS_SAMPLER_ENV, `one of ${BACKENDS.join(', ')}`, backend);
  if (backend === 'procfs' || (backend === 'auto' && procfsAvailable())) return new ProcfsUsageReader();
  return new PidusageUsageReader();
}
