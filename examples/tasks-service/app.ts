/**
 * The tasks service: Express + PostgreSQL through a `pg` pool of 5 connections.
 *
 * `GET /tasks?project=<name>` lists a project's tasks (all tasks without `project`).
 * The leaky handler forgets `client.release()` on its 404 path: every request for an unknown
 * project keeps one pool connection forever. After five of them the pool is exhausted and every
 * later request waits in `pool.connect()` — the service answers nothing, or 500s/504s from a
 * proxy's timeout. `listTasksFixed` is the fix: release in `finally`.
 */
import express from 'express';
import type pg from 'pg';
// In your service: import { hangwatchExpress } from 'hangwatch/express'; (here: the repository's source)
import { hangwatchExpress, type RequestHangOptions } from '../../lib/middleware/express.js';

export interface TasksAppOptions {
  pool: pg.Pool;
  /** Serve the fixed handler instead of the leaky one. */
  fixed?: boolean;
  /** hangwatch's request middleware options; `false` to run without it. */
  hangwatch?: RequestHangOptions | false;
}

type Handler = (req: express.Request, res: express.Response) => Promise<void>;

function projectOf(req: express.Request): string | undefined {
  return typeof req.query.project === 'string' ? req.query.project : undefined;
}

/** The bug: the 404 path returns without releasing the client. */
function listTasksLeaky(pool: pg.Pool): Handler {
  return async function listTasks(req, res) {
    const client = await pool.connect(); // ← hangwatch's report points here
    const project = projectOf(req);
    const found = await client.query('select id from projects where name = $1 or $1 is null', [project ?? null]);
    if (found.rowCount === 0) {
      res.status(404).json({ error: `no project named ${project}` });
      return; // BUG: client.release() is never called on this path
    }
    const { rows } = await client.query(
      'select t.id, t.title, t.done from tasks t join projects p on p.id = t.project_id where p.name = $1 or $1 is null order by t.id',
      [project ?? null],
    );
    client.release();
    res.json(rows);
  };
}

/** The fix: the client goes back to the pool on every path. */
function listTasksFixed(pool: pg.Pool): Handler {
  return async function listTasks(req, res) {
    const client = await pool.connect();
    try {
      const project = projectOf(req);
      const found = await client.query('select id from projects where name = $1 or $1 is null', [project ?? null]);
      if (found.rowCount === 0) {
        res.status(404).json({ error: `no project named ${project}` });
        return;
      }
      const { rows } = await client.query(
        'select t.id, t.title, t.done from tasks t join projects p on p.id = t.project_id where p.name = $1 or $1 is null order by t.id',
        [project ?? null],
      );
      res.json(rows);
    } finally {
      client.release();
    }
  };
}

export function createTasksApp({ pool, fixed = false, hangwatch = {} }: TasksAppOptions): express.Express {
  const app = express();
  if (hangwatch !== false) app.use(hangwatchExpress({ timeoutMs: 5_000, asyncTrace: true, ...hangwatch }));
  app.get('/health', (_req, res) => {
    res.json({ ok: true, pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } });
  });
  app.get('/tasks', fixed ? listTasksFixed(pool) : listTasksLeaky(pool));
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    console.error(err);
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });
  return app;
}
