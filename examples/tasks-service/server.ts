/**
 * Run the tasks service: `DATABASE_URL=postgres://... npx tsx examples/tasks-service/server.ts`.
 * Env: PORT (default 3000; 0 = any), TASKS_FIXED=1 (serve the fix), HANGWATCH_TIMEOUT_MS
 * (request deadline, default 5000), HANGWATCH_FORMAT=json (one JSON report per line on stderr).
 * Prints `listening on http://127.0.0.1:<port>` on stdout once ready.
 */
import type { AddressInfo } from 'node:net';
// In your service: import { watchPool } from 'hangwatch'; (here: the repository's source)
import { watchPool } from '../../lib/index.js';
import { createTasksApp } from './app.js';
import { createPool, migrate } from './db.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  process.exit(2);
}
const pool = createPool(url, Number(process.env.POOL_MAX ?? 5));
// Who holds the connections: a stuck request's report lists the holders, and flags those whose
// request already finished without releasing (the leak).
const poolWatch = watchPool(pool, { name: 'tasks-db' });
await migrate(pool);
const app = createTasksApp({
  pool,
  fixed: process.env.TASKS_FIXED === '1',
  hangwatch: {
    timeoutMs: Number(process.env.HANGWATCH_TIMEOUT_MS ?? 5_000),
    format: process.env.HANGWATCH_FORMAT === 'json' ? 'json' : 'text',
  },
});
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
server.maxConnections = 2_000;
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  poolWatch.stop();
  void pool.end().catch(() => undefined);
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
