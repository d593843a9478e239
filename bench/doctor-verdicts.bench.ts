/**
 * `npm run bench:doctor-verdicts`: what clinic doctor and hangwatch doctor each conclude about the
 * fixture servers of the doctor's tests (test/fixtures: blocking, I/O-bound, leaking, healthy,
 * express-session's MemoryStore, a slowly leaking cache and the same cache bounded; each starts
 * its own load). Each doctor runs each fixture for BENCH_SECONDS (default
 * 15; the fixtures' load lasts 20 s), then gets SIGINT (Ctrl-C) and writes its HTML report, from
 * which its conclusion is read back: clinic's issue category, hangwatch's findings. Also: does the
 * report name the function that blocks (`expensiveSyncWork` in blocking-server.mjs)?
 * BENCH_ROUNDS (default 2) runs of each, tools alternating. clinic is installed on first use
 * (bench/peers); without it only hangwatch runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLINIC, CLINIC_ENV, clinicCategory, hangwatchFindings, prepareClinic } from './peers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
// A fixture with its arguments: the cache server leaks or keeps its cache bounded.
const FIXTURES = [
  'blocking-server.mjs',
  'io-bound-server.mjs',
  'leaking-server.mjs',
  'healthy-server.mjs',
  'session-store-server.mjs',
  'cache-server.mjs leak',
  'cache-server.mjs bounded',
];
const BLOCKING_FUNCTION = 'expensiveSyncWork';
const built = join(ROOT, 'dist/esm/lib/cli/main.js');
const hangwatchCli = existsSync(built) ? [built] : ['--import', 'tsx', join(ROOT, 'lib/cli/main.ts')];
const scratch = mkdtempSync(join(tmpdir(), 'hw-bench-verdicts-'));

interface Verdict {
  says: string;
  namesBlockingFunction: boolean;
}
interface Tool {
  name: string;
  args: (out: string, program: string) => string[];
  env: NodeJS.ProcessEnv;
  verdict: (html: string) => Verdict;
}
const tools: Tool[] = [
  {
    name: 'hangwatch doctor',
    args: (out, program) => [
      ...hangwatchCli,
      'doctor',
      '--quiet',
      '--html',
      join(out, 'report.html'),
      '--',
      process.execPath,
      program,
    ],
    env: {},
    verdict: (html) => {
      const findings = hangwatchFindings(html);
      const top = findings.flatMap((f) => f.blockingStacks ?? []).map((s) => s.frames[0]?.functionName);
      return {
        says: findings.map((f) => f.kind).join('+') || '?',
        namesBlockingFunction: top.includes(BLOCKING_FUNCTION),
      };
    },
  },
];
const clinicSkipped = prepareClinic();
if (clinicSkipped) process.stderr.write(`clinic doctor: skipped (${clinicSkipped})\n`);
else
  tools.push({
    name: 'clinic doctor',
    args: (out, program) => [CLINIC, 'doctor', '--open=false', '--dest', out, '--', process.execPath, program],
    env: CLINIC_ENV,
    verdict: (html) => ({ says: clinicCategory(html), namesBlockingFunction: html.includes(BLOCKING_FUNCTION) }),
  });

/** Runs the doctor on the fixture for SECONDS, then SIGINT; its verdict from the HTML report it wrote. */
async function diagnoseFixture(tool: Tool, fixture: string): Promise<Verdict> {
  const out = mkdtempSync(join(scratch, 'run-'));
  const env = { ...process.env, ...tool.env };
  delete env.NODE_OPTIONS;
  const [file, ...fixtureArgs] = fixture.split(' ');
  const child = spawn(
    process.execPath,
    [...tool.args(out, join(ROOT, 'test/fixtures', file as string)), ...fixtureArgs],
    { cwd: out, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGINT'), SECONDS * 1000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  const html = readdirSync(out, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.html'));
  const verdict = html
    ? tool.verdict(readFileSync(join(out, html), 'utf8'))
    : { says: `no report (${stderr.trim().split('\n').pop() ?? ''})`, namesBlockingFunction: false };
  rmSync(out, { recursive: true, force: true });
  return verdict;
}

const verdicts = new Map<string, Verdict[]>();
process.stderr.write(
  `bench:doctor-verdicts — ${FIXTURES.length} fixtures × ${tools.length} doctors × ${ROUNDS} rounds × ${SECONDS} s\n`,
);
for (let round = 0; round < ROUNDS; round++) {
  for (const fixture of FIXTURES) {
    for (const tool of round % 2 ? [...tools].reverse() : tools) {
      const v = await diagnoseFixture(tool, fixture);
      const key = `${fixture}\t${tool.name}`;
      verdicts.set(key, [...(verdicts.get(key) ?? []), v]);
      process.stderr.write(
        `  round ${round + 1}: ${fixture.padEnd(20)} ${tool.name.padEnd(16)} says ${v.says}${v.namesBlockingFunction ? `, names ${BLOCKING_FUNCTION}` : ''}\n`,
      );
    }
  }
}
rmSync(scratch, { recursive: true, force: true });

const rows = FIXTURES.map((fixture) => ({
  fixture,
  cells: tools.map((tool) => {
    const vs = verdicts.get(`${fixture}\t${tool.name}`) ?? [];
    return {
      tool: tool.name,
      says: vs.map((v) => v.says),
      namesBlockingFunction: `${vs.filter((v) => v.namesBlockingFunction).length}/${vs.length}`,
    };
  }),
}));
const text = rows.map((r) => [
  r.fixture,
  ...r.cells.map(
    (c) =>
      `${c.says.join(' | ')}${r.fixture.startsWith('blocking') ? ` (names ${BLOCKING_FUNCTION}: ${c.namesBlockingFunction})` : ''}`,
  ),
]);
const table = [['fixture', ...tools.map((t) => t.name)], ...text];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log(`\n${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ')).join('\n')}`);
if (clinicSkipped) console.log(`\nclinic doctor: skipped (${clinicSkipped})`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/doctor-verdicts.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, seconds: SECONDS, ...(clinicSkipped ? { clinicSkipped } : {}), rows }, null, 2)}\n`,
);
