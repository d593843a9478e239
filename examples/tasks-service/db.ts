/** The tasks service's database: a small `pg` pool and its schema. */
import pg from 'pg';

export function createPool(connectionString: string, max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 10_000 });
  // An idle client whose server connection drops emits 'error' on the pool: log, don't crash.
  pool.on('error', (err) => console.error('pg pool: idle client error:', err.message));
  return pool;
}

export async function migrate(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table if not exists projects (id serial primary key, name text unique not null);
    create table if not exists tasks (id serial primary key, project_id int not null references projects(id), title text not null, done boolean not null default false);
  `);
  const { rowCount } = await pool.query('select 1 from projects limit 1');
  if (rowCount === 0) {
    await pool.query(`insert into projects (name) values ('inbox'), ('launch')`);
    await pool.query(
      `insert into tasks (project_id, title) select p.id, 'task ' || g from projects p, generate_series(1, 20) g`,
    );
  }
}
