/**
 * The side-by-side peers too heavy for the main install (clinic: ~700 packages), listed in
 * bench/peers/package.json with its lock file and installed on first use into
 * bench/peers/node_modules (git-ignored) by `npm ci`. Without network the benchmarks skip them
 * and say why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../lib/report/diagnosis.js';
import type { DoctorReport } from '../lib/report/doctor-report.js';

const PEERS = fileURLToPath(new URL('peers', import.meta.url));
export const CLINIC = join(PEERS, 'node_modules/clinic/bin.js');
/** clinic waits silently on an analytics prompt without NO_INSIGHT. */
export const CLINIC_ENV = { NO_INSIGHT: '1' };

/** Installs bench/peers on first use. Returns why clinic cannot be compared, or undefined when it is ready. */
export function prepareClinic(): string | undefined {
  if (process.env.BENCH_CLINIC === '0') return 'BENCH_CLINIC=0';
  if (existsSync(CLINIC)) return undefined;
  process.stderr.write(
    'installing the side-by-side peers into bench/peers/node_modules (clinic: ~700 packages, ~30 s)…\n',
  );
  const npm = spawnSync('npm', ['ci', '--prefix', PEERS, '--ignore-scripts', '--no-audit', '--no-fund'], {
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (npm.error) return `npm ci --prefix bench/peers failed: ${npm.error.message}`;
  if (npm.status !== 0) {
    // npm's own summary: "npm error code ECONNREFUSED" and the message ("FetchError: request to … failed, reason: …").
    const lines = `${npm.stderr}\n${npm.stdout}`.split('\n');
    const code = lines.map((l) => /^npm error code (\S+)/.exec(l)?.[1]).find(Boolean);
    const message = lines
      .find((l) => /^npm error (?!code |syscall |errno |\s|A complete log)\S/.test(l))
      ?.replace(/^npm error /, '');
    return `npm ci --prefix bench/peers exited with ${npm.status ?? npm.signal}: ${[code, message].filter(Boolean).join(' — ').slice(0, 240) || 'no message'}`;
  }
  return existsSync(CLINIC) ? undefined : 'npm ci --prefix bench/peers did not install clinic/bin.js';
}

/** The category clinic doctor's analysis chose (event-loop, io, gc, none, unknown, data), read from its HTML report. */
export function clinicCategory(html: string): string {
  return /"issueCategory":"([a-z-]+)"/.exec(html)?.[1] ?? '?';
}

/** The findings of a hangwatch doctor HTML report, from the JSON report embedded in it. */
export function hangwatchFindings(html: string): Finding[] {
  const json = /<script type="application\/json" id="hangwatch-report">([\s\S]*?)<\/script>/.exec(html)?.[1];
  return json ? (JSON.parse(json) as DoctorReport).diagnosis.findings : [];
}
