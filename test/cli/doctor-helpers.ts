// What the doctor tests share: run the doctor on a fixture program and read its JSON report.
import type { Test } from 'tap';
import type { FindingKind } from '../../lib/report/diagnosis.js';
import type { DoctorReport } from '../../lib/report/doctor-report.js';
import { fixture, runCli } from './run-cli.js';

/** `seconds` undefined: no --duration, the doctor waits for the program to exit. `env`: for the doctor and the program. */
export async function doctor(
  name: string,
  extra: string[] = [],
  args: string[] = [],
  seconds: number | undefined = 5,
  env: NodeJS.ProcessEnv = {},
): Promise<DoctorReport> {
  const duration = seconds === undefined ? [] : ['--duration', String(seconds)];
  const r = await runCli(
    [
      'doctor',
      ...duration,
      '--interval',
      '200',
      '--json',
      '--quiet',
      ...extra,
      '--',
      process.execPath,
      fixture(name),
      ...args,
    ],
    { env },
  );
  if (r.code !== 0) throw new Error(`doctor exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DoctorReport;
}

export const kinds = (report: DoctorReport) => report.diagnosis.findings.map((f) => f.kind);

export const PROBLEMS: FindingKind[] = ['event-loop-blocking', 'io-wait', 'memory-leak', 'handle-leak'];

/** The expected problem is named, and no other of the problems the fixtures stand for. */
export function assertOnly(t: Test, report: DoctorReport, expected: FindingKind): void {
  const found = kinds(report);
  t.ok(found.includes(expected), `${expected} found; findings: ${found.join(', ')}`);
  t.same(
    found.filter((k) => PROBLEMS.includes(k) && k !== expected),
    [],
    'no other problem named',
  );
}

/** The load generator really connected (sockets open) for a good part of the run; startup is slow on a loaded machine. */
export function assertLoaded(t: Test, report: DoctorReport): void {
  const loaded = report.run.samples.filter((s) => (s.handlesByType.TCPSocketWrap ?? 0) > 0).length;
  t.ok(
    loaded >= 4 && loaded >= report.run.samples.length / 3,
    `under load in ${loaded} of ${report.run.samples.length} samples`,
  );
}
/** Whether a blocking stack blames hangwatch's own heap snapshot. */
export const blamesHangwatch = (report: DoctorReport) =>
  report.diagnosis.findings
    .flatMap((f) => f.blockingStacks ?? [])
    .some((s) => s.frames.slice(0, 8).some((f) => /inspector-heap-snapshot|^node:inspector$/.test(f.file)));
