/**
 * npm run demo — hangwatch catching, in one process:
 *   1. a hang where the event loop is blocked (the stack is captured while it is still blocked),
 *   2. a hang where the loop is free but an operation waits forever (a pool that never hands out
 *      a connection) — the report points at the `pool.acquire()` line,
 *   3. a blocking call anywhere in the process (the event-loop block monitor),
 *   4. a memory leak (three heap snapshots, the leak finder names the leaking objects and their path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeaks, monitorEventLoop, withHangDetection, writeHeapSnapshot, HangError } from '../lib/index.js';
import { formatLeakPath } from '../lib/heap/index.js';
import { renderBlockEventText } from '../lib/report/index.js';

const heading = (text: string): void => void process.stdout.write(`\n\x1b[1m=== ${text} ===\x1b[0m\n\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- 1. A blocked event loop --------------------------------------------------------------------
function checksum(data: number[]): number {
  let sum = 0;
  for (let round = 0; round < 3_000; round++) {
    for (const x of data) sum = (sum + x * round) % 1_000_003; // CPU-bound, never yields
  }
  return sum;
}

// --- 2. A pool that never hands out a connection -------------------------------------------------
class ConnectionPool {
  private readonly idle: object[] = [];
  private readonly waiters: Array<(c: object) => void> = [];
  acquire(): Promise<object> {
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve)); // all connections leaked: waits forever
  }
}
const pool = new ConnectionPool();

async function listTasks(): Promise<string[]> {
  const connection = await pool.acquire();
  return [String(connection)];
}

// --- 4. A cache that only grows -----------------------------------------------------------------
class SessionRecord {
  constructor(
    readonly id: number,
    readonly payload = 'x'.repeat(256),
  ) {}
}
const sessionCache = new Map<number, SessionRecord>();
let nextSession = 0;
function handleLogin(): void {
  for (let i = 0; i < 300; i++) sessionCache.set(nextSession, new SessionRecord(nextSession++)); // never evicted
}

async function main(): Promise<void> {
  heading('1. withHangDetection: the event loop is blocked at the deadline');
  await withHangDetection(() => checksum(Array.from({ length: 200_000 }, (_, i) => i)), {
    name: 'nightly checksum',
    timeoutMs: 200,
  });

  heading('2. withHangDetection: the loop is free, the operation waits forever (asyncTrace)');
  try {
    await withHangDetection(
      async function handleGetTasks() {
        await sleep(10);
        return await listTasks();
      },
      { name: 'GET /tasks', timeoutMs: 500, asyncTrace: true, action: 'reject' },
    );
  } catch (err) {
    if (!(err instanceof HangError)) throw err;
    process.stdout.write(`→ rejected with ${err.code}; the caller can answer 503 instead of hanging\n`);
  }

  heading('3. monitorEventLoop: blocking calls anywhere in the process');
  const monitor = monitorEventLoop({ thresholdMs: 100, onBlock: (e) => process.stdout.write(renderBlockEventText(e)) });
  await sleep(100);
  setTimeout(function validateSku() {
    /^([a-z0-9]+)+$/.test(`${'a'.repeat(23)}!`); // catastrophic backtracking
  }, 0);
  await sleep(1500);
  const s = monitor.stats();
  process.stdout.write(
    `loop delay p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(0)} ms; ${s.blockCount} block(s)\n`,
  );
  monitor.stop();

  heading('4. findLeaks: three heap snapshots, what leaked and what holds it');
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-demo-'));
  try {
    handleLogin(); // warm up
    const baseline = await writeHeapSnapshot({ dir });
    handleLogin();
    const target = await writeHeapSnapshot({ dir });
    handleLogin();
    const final = await writeHeapSnapshot({ dir });
    const report = await findLeaks({ baseline, target, final });
    for (const c of report.clusters.slice(0, 1)) {
      process.stdout.write(
        `${c.name} ×${c.count}, retaining ${(c.retainedSize / 1024).toFixed(1)} KiB\n  ${formatLeakPath(c.path, { from: c.userPathStart })}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
