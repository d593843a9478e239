import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fixture = join(process.cwd(), 'test', 'heap', 'fixtures', 'leaky-program.ts');

/** Run the leaky program in a fresh process; it writes baseline/target/final .heapsnapshot into `dir`. */
export async function runLeakyProgram(
  mode: 'map' | 'emitter' | 'interval',
  dir: string,
): Promise<{ baseline: string; target: string; final: string }> {
  await run(process.execPath, ['--expose-gc', '--import', 'tsx', fixture, mode, dir], { timeout: 120_000 });
  return {
    baseline: join(dir, 'baseline.heapsnapshot'),
    target: join(dir, 'target.heapsnapshot'),
    final: join(dir, 'final.heapsnapshot'),
  };
}
