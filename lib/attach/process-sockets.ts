/**
 * The TCP sockets a process holds, to find the port its inspector listens on after SIGUSR1 and to
 * see whether a debugger client is connected to it — without asking any port that is not the
 * target's. Linux: the socket inodes in `/proc/<pid>/fd` matched against `/proc/<pid>/net/tcp{,6}`
 * (the target's own network namespace). macOS: `lsof`, which reads the same from the kernel.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { AttachPermissionError } from './errors.js';

export interface ProcessSocket {
  /** Local address as text (`127.0.0.1`, `::1`, `0.0.0.0`, `::`). */
  address: string;
  port: number;
  /** Remote port (0 for a listening socket). */
  remotePort: number;
  state: 'listen' | 'established' | 'other';
}

/** TCP sockets of `pid`. Throws `AttachPermissionError` when its descriptors cannot be read. */
export function processSockets(pid: number): Promise<ProcessSocket[]> {
  return process.platform === 'linux' ? procfsSockets(pid) : lsofSockets(pid);
}

/** Ports `pid` listens on (TCP). */
export async function listeningPorts(pid: number): Promise<ProcessSocket[]> {
  return (await processSockets(pid)).filter((s) => s.state === 'listen');
}

/** TCP LISTEN sockets of every process in `pid`'s network namespace, whoever owns them (Linux), by port. */
export async function namespaceListeners(pid: number): Promise<Set<number>> {
  const ports = new Set<number>();
  if (process.platform !== 'linux') return ports;
  for (const entry of await readTcpTables(pid)) if (entry.state === 'listen') ports.add(entry.port);
  return ports;
}

async function procfsSockets(pid: number): Promise<ProcessSocket[]> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new AttachPermissionError(pid, 'read the open files', { cause: err });
    }
    return [];
  }
  const inodes = new Set<string>();
  await Promise.all(
    fds.map(async (fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1] as string);
      } catch {
        // closed meanwhile
      }
    }),
  );
  return (await readTcpTables(pid)).filter((e) => inodes.has(e.inode)).map(({ inode: _inode, ...socket }) => socket);
}

interface TcpEntry extends ProcessSocket {
  inode: string;
}

async function readTcpTables(pid: number): Promise<TcpEntry[]> {
  const entries: TcpEntry[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [localHex, localPort] = (f[1] as string).split(':');
      const remotePort = parseInt((f[2] as string).split(':')[1] ?? '0', 16);
      const st = f[3];
      entries.push({
        address: hexAddress(localHex ?? ''),
        port: parseInt(localPort ?? '0', 16),
        remotePort,
        state: st === '0A' ? 'listen' : st === '01' ? 'established' : 'other',
        inode: f[9] as string,
      });
    }
  }
  return entries;
}

/** `/proc/net/tcp` addresses: 32-bit words in host (little-endian) byte order. */
function hexAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(w.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  const text = groups.join(':');
  return text === '0:0:0:0:0:0:0:0' ? '::' : text === '0:0:0:0:0:0:0:1' ? '::1' : text;
}

function lsofSockets(pid: number): Promise<ProcessSocket[]> {
  return new Promise((resolve, reject) => {
    // -F n: one "n<local>-><remote>" or "n<addr>:<port>" line per socket; TST: the TCP state.
    execFile(
      'lsof',
      ['-nP', '-a', '-p', String(pid), '-iTCP', '-F', 'nT'],
      { timeout: 5000 },
      (err, stdout, stderr) => {
        if (err && /permission denied/i.test(stderr)) {
          reject(new AttachPermissionError(pid, 'list the sockets'));
          return;
        }
        const sockets: ProcessSocket[] = [];
        let current: { name: string } | undefined;
        const flush = (state: string): void => {
          if (!current) return;
          const [local, remote] = current.name.split('->');
          const m = /^(.*):(\d+)$/.exec(local ?? '');
          if (m) {
            sockets.push({
              address: (m[1] as string).replace(/^\[|\]$/g, '').replace(/^\*$/, '0.0.0.0'),
              port: Number(m[2]),
              remotePort: Number(/:(\d+)$/.exec(remote ?? '')?.[1] ?? 0),
              state: state === 'LISTEN' ? 'listen' : state === 'ESTABLISHED' ? 'established' : 'other',
            });
          }
          current = undefined;
        };
        for (const line of stdout.split('\n')) {
          if (line.startsWith('n')) current = { name: line.slice(1) };
          else if (line.startsWith('TST=')) flush(line.slice(4));
        }
        resolve(sockets);
      },
    );
  });
}
