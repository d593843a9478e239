/**
 * Throwaway PostgreSQL and Prometheus servers for the production tests (Debian's packages,
 * installed by .ci/setup-services). Each starts on a free loopback port in a temp directory and
 * is stopped and removed afterwards. When a server cannot start, the helpers say why and the
 * tests that need it skip with that message.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Started<T> = { ok: true; value: T } | { ok: false; reason: string };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, out: `${stdout}${stderr}${err && code === 1 && !stderr ? err.message : ''}` });
    });
  });
}

function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

export interface Postgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** initdb + pg_ctl start as the `postgres` user when running as root (both refuse root). */
export async function startPostgres(): Promise<Started<Postgres>> {
  const bin = postgresBin();
  if (!bin)
    return {
      ok: false,
      reason: 'PostgreSQL is not installed (Debian package "postgresql"; .ci/setup-services installs it)',
    };
  const isRoot = process.getuid?.() === 0;
  const as = async (args: string[], timeoutMs?: number): Promise<{ code: number; out: string }> =>
    isRoot
      ? run('runuser', ['-u', 'postgres', '--', ...args], timeoutMs)
      : run(args[0] as string, args.slice(1), timeoutMs);
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-pg-'));
  const data = join(dir, 'data');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    if (isRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  } catch (err) {
    cleanup();
    return { ok: false, reason: `cannot hand the data directory to the postgres user: ${(err as Error).message}` };
  }
  const init = await as([
    join(bin, 'initdb'),
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  if (init.code !== 0) {
    cleanup();
    return { ok: false, reason: `initdb failed: ${init.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
  const start = await as(
    [join(bin, 'pg_ctl'), '-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'],
    90_000,
  );
  if (start.code !== 0) {
    cleanup();
    return { ok: false, reason: `pg_ctl start failed: ${start.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  return {
    ok: true,
    value: {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      async stop() {
        await as([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'], 40_000);
        cleanup();
      },
    },
  };
}

function passwdEntry(name: string): string[] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} in /etc/passwd`);
  return line.split(':');
}
const uidOf = (name: string): number => Number(passwdEntry(name)[2]);
const gidOf = (name: string): number => Number(passwdEntry(name)[3]);

/** A server process of a test: its output kept for error messages, stopped with SIGTERM (SIGKILL after `killAfterMs`) and its directory removed. */
interface ServerProcess {
  exited(): boolean;
  /** The last lines of its output, joined for a one-line message. */
  tail(): string;
  stop(): Promise<void>;
}

function startServerProcess(bin: string, args: string[], dir: string, killAfterMs: number): ServerProcess {
  let log = '';
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log += d));
  child.stderr?.on('data', (d: Buffer) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => (log += String(err)));
  return {
    exited: () => child.exitCode !== null || child.signalCode !== null,
    tail: () => log.trim().split('\n').slice(-3).join(' | '),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Prometheus {
  url: string;
  /** Instant query through the HTTP API; the `result` array. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** Prometheus scraping `targets` (host:port on loopback) every second, path `metricsPath`. */
export async function startPrometheus(targets: string[], metricsPath = '/metrics'): Promise<Started<Prometheus>> {
  const bin = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
  if (!bin)
    return {
      ok: false,
      reason: 'Prometheus is not installed (Debian package "prometheus"; .ci/setup-services installs it)',
    };
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-prom-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: hangwatch',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const server = startServerProcess(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir,
    5_000,
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = (): Promise<void> => server.stop();
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exited()) {
      await stop();
      return { ok: false, reason: `prometheus exited: ${server.tail()}` };
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      return { ok: false, reason: `prometheus did not become ready in 30 s: ${server.tail()}` };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    ok: true,
    value: {
      url,
      async query(expr) {
        const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await r.json()) as {
          status: string;
          data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        if (body.status !== 'success' || !body.data)
          throw new Error(`prometheus query failed: ${JSON.stringify(body)}`);
        return body.data.result;
      },
      stop,
    },
  };
}

export interface Mariadb {
  host: string;
  port: number;
  /** A user and database of its own for the tests (all privileges on it). */
  user: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

/**
 * A throwaway MariaDB (Debian's "mariadb-server") on a free loopback port: mariadb-install-db into
 * a temp directory, mariadbd without the system's config files, then a database and user for the
 * tests created as root over the server's socket. Stopped (SIGTERM) and removed afterwards.
 */
export async function startMariadb(): Promise<Started<Mariadb>> {
  const bin = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));
  const installDb = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((p) => existsSync(p));
  if (!bin || !installDb)
    return {
      ok: false,
      reason: 'MariaDB is not installed (Debian package "mariadb-server"; .ci/setup-services installs it)',
    };
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'hangwatch-mariadb-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  // mariadbd refuses to run as root: as root, it runs as the package's `mysql` user.
  const userArgs = isRoot ? ['--user=mysql'] : [];
  try {
    if (isRoot) chownSync(dir, uidOf('mysql'), gidOf('mysql'));
  } catch (err) {
    cleanup();
    return { ok: false, reason: `cannot hand the data directory to the mysql user: ${(err as Error).message}` };
  }
  const data = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const init = await run(
    installDb,
    ['--no-defaults', `--datadir=${data}`, ...userArgs, '--auth-root-authentication-method=normal', '--skip-test-db'],
    120_000,
  );
  if (init.code !== 0) {
    cleanup();
    return { ok: false, reason: `mariadb-install-db failed: ${init.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const port = await freePort();
  const server = startServerProcess(
    bin,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      ...userArgs,
    ],
    dir,
    20_000,
  );
  const stop = (): Promise<void> => server.stop();
  const { createConnection } = await import('mysql2/promise');
  const credentials = { user: 'hangwatch', password: 'hangwatch-test', database: 'hangwatch' };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.exited()) {
      await stop();
      return { ok: false, reason: `mariadbd exited: ${server.tail()}` };
    }
    try {
      const root = await createConnection({ socketPath: socket, user: 'root' });
      try {
        await root.query(`CREATE DATABASE IF NOT EXISTS ${credentials.database}`);
        await root.query(
          `CREATE USER IF NOT EXISTS '${credentials.user}'@'127.0.0.1' IDENTIFIED BY '${credentials.password}'`,
        );
        await root.query(`GRANT ALL PRIVILEGES ON ${credentials.database}.* TO '${credentials.user}'@'127.0.0.1'`);
      } finally {
        await root.end();
      }
      break;
    } catch (err) {
      // not accepting connections yet
      if (Date.now() > deadline) {
        await stop();
        return {
          ok: false,
          reason: `MariaDB did not accept connections in 90 s: ${(err as Error).message} | ${server.tail()}`,
        };
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ok: true, value: { host: '127.0.0.1', port, ...credentials, stop } };
}
