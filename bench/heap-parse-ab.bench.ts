/**
 * npm run bench:heap-parse-ab — the heap snapshot parser of the working tree against the one of
 * another revision (HEAP_PARSE_BASE, default HEAD), on the same snapshot, in the same process,
 * in interleaved rounds (A B, then B A, …): CPU time of a full parse and of an ids-only parse, fed
 * in 4 MiB chunks from memory as loadHeapSnapshot reads a file. Prints each side's median and the
 * ratio new/base of every round pair with its spread (min–max).
 *
 * Env: HEAP_PARSE_BASE (a git revision), HEAP_PARSE_FILE (a .heapsnapshot; default: one generated
 * once into bench/.cache/ with HEAP_PARSE_ITEMS items, default 60000, ~40 MB), HEAP_PARSE_ROUNDS
 * (default 8).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, median } from './stats.js';

interface Parser {
  write(chunk: Uint8Array): void;
  end(): { nodeCount: number };
  endIds(): Uint32Array;
}
type ParserClass = new (source?: string, totalBytes?: number, options?: { idsOnly?: boolean }) => Parser;

const root = process.cwd();
const base = process.env.HEAP_PARSE_BASE ?? 'HEAD';
const rounds = Number(process.env.HEAP_PARSE_ROUNDS ?? 8);
const items = Number(process.env.HEAP_PARSE_ITEMS ?? 60_000);
const CHUNK = 4 * 1024 * 1024;

function snapshotFile(): string {
  if (process.env.HEAP_PARSE_FILE) return process.env.HEAP_PARSE_FILE;
  const dir = join(root, 'bench', '.cache');
  const file = join(dir, `parse-${items}.heapsnapshot`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating a heap snapshot with ${items} items into ${file} …\n`);
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'fixtures', 'allocate-heap.ts'), `${file}.tmp`, String(items)],
      { stdio: 'ignore' },
    );
    renameSync(`${file}.tmp`, file);
  }
  return file;
}

/** CPU time (user + system) of one parse, in ms. */
function parseCpuMs(Parser: ParserClass, bytes: Buffer, idsOnly: boolean): number {
  const before = process.cpuUsage();
  const parser = new Parser('bench', bytes.length, { idsOnly });
  for (let at = 0; at < bytes.length; at += CHUNK) parser.write(bytes.subarray(at, Math.min(at + CHUNK, bytes.length)));
  if (idsOnly) parser.endIds();
  else parser.end();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  const file = snapshotFile();
  const bytes = readFileSync(file);
  const baseDir = mkdtempSync(join(tmpdir(), 'hangwatch-parse-base-'));
  try {
    execFileSync('sh', ['-c', `git archive ${JSON.stringify(base)} lib | tar -x -C ${JSON.stringify(baseDir)}`], {
      cwd: root,
    });
    const load = async (dir: string): Promise<ParserClass> =>
      (
        (await import(pathToFileURL(join(dir, 'lib', 'heap', 'snapshot-parser.ts')).href)) as {
          HeapSnapshotParser: ParserClass;
        }
      ).HeapSnapshotParser;
    // HEAP_PARSE_NEW_FIRST=1 loads the working tree's parser first (to see whether load order matters).
    const newFirst = process.env.HEAP_PARSE_NEW_FIRST === '1';
    const New = newFirst ? await load(root) : undefined;
    const Base = await load(baseDir);
    const Newer = New ?? (await load(root));
    process.stderr.write(
      `${file}: ${(bytes.length / 1048576).toFixed(1)} MB; base ${base} vs working tree; ${rounds} interleaved rounds; node ${process.version}\n`,
    );
    for (const idsOnly of [false, true]) {
      // One warm-up parse each, not counted.
      parseCpuMs(Base, bytes, idsOnly);
      parseCpuMs(Newer, bytes, idsOnly);
      const baseMs: number[] = [];
      const newMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          baseMs.push(parseCpuMs(Base, bytes, idsOnly));
          newMs.push(parseCpuMs(Newer, bytes, idsOnly));
        } else {
          newMs.push(parseCpuMs(Newer, bytes, idsOnly));
          baseMs.push(parseCpuMs(Base, bytes, idsOnly));
        }
      }
      const ratios = newMs.map((ms, i) => ms / baseMs[i]!);
      process.stdout.write(
        `${idsOnly ? 'ids-only' : 'full    '} parse CPU: base median ${fmt(median(baseMs), 0)} ms, new median ${fmt(median(newMs), 0)} ms; ` +
          `new/base per round: median ${fmt(median(ratios), 3)} (${fmt(Math.min(...ratios), 3)}–${fmt(Math.max(...ratios), 3)})\n`,
      );
    }
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
  }
}

await main();
