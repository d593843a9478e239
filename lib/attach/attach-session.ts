/**
 * Attach to a running Node.js process through its inspector, run some work over the connection,
 * and leave the process as it was.
 *
 * 1. Checks (lib/attach/target-process.ts): the process exists, this user may signal it, it is
 *    Node and handles SIGUSR1.
 * 2. If its inspector is already open (started with --inspect, or inspector.open()), that one is
 *    used and left open afterwards — unless a debugger client is connected to it: then hangwatch
 *    refuses rather than fight the debugger over pauses.
 * 3. Otherwise `SIGUSR1` makes Node open its inspector. The port is the one the target itself
 *    listens on afterwards (its new LISTEN socket), not an assumed 9229: the target may have been
 *    started with --inspect-port, and 9229 may belong to someone else on this machine. Only the
 *    target's own new port gets the `GET /json/list` request.
 * 4. Afterwards, whatever happened (errors, Ctrl-C of hangwatch): every pause is resumed, the
 *    debugger/profilers disabled, and an inspector hangwatch opened is closed again
 *    (`inspector.close()` evaluated in the target), then hangwatch checks that the port no longer
 *    listens.
 */
import { get } from 'node:http';
import { COMMAND_TIMEOUT_MS, InspectorConnection, type CdpChannel } from './cdp-channel.js';
import {
  AttachInterruptedError,
  AttachTimeoutError,
  DebuggerAttachedError,
  InspectorPortTakenError,
  InspectorRefusedError,
} from './errors.js';
import { listeningPorts, namespaceListeners, processSockets, type ProcessSocket } from './process-sockets.js';
import { checkAttachable, type TargetProcess } from './target-process.js';

export interface AttachOptions {
  /**
   * How long the target may take to open its inspector after SIGUSR1 (default 10 s). Node opens
   * it from the main thread (an interrupt, or the loop's wake-up), so a main thread inside a long
   * native call opens it only when the call returns.
   */
  startTimeoutMs?: number;
  /** Where to write what happens (attach, close); nothing when absent. */
  log?: (line: string) => void;
  /**
   * The work watches `signal` itself and finishes early (a CPU profile keeps what it recorded);
   * otherwise Ctrl-C/SIGTERM abandons the work at once. Either way the target is cleaned up.
   */
  workHandlesInterrupt?: boolean;
}

export interface AttachContext {
  target: TargetProcess;
  /** The main thread of the target. */
  main: CdpChannel;
  /** Inspector port used. */
  port: number;
  /** hangwatch opened the inspector (SIGUSR1) and will close it again. */
  openedInspector: boolean;
  /** Aborted on Ctrl-C/SIGTERM of hangwatch: long work (a CPU profile) stops early and cleans up. */
  signal: AbortSignal;
}

export interface AttachOutcome<T> {
  result: T;
  port: number;
  /** hangwatch opened the inspector (SIGUSR1) and closed it again. */
  openedInspector: boolean;
  /** Set when the inspector hangwatch opened still listened after it was closed. */
  stillListening?: string;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
const POLL_MS = 10;
const HTTP_TIMEOUT_MS = 1000;
/** Bound on the whole cleanup (it waits for the target to run our commands). */
const CLEANUP_TIMEOUT_MS = 3000;

/**
 * `inspector.close()` inside the target. `process.getBuiltinModule` exists from Node 20.16/22.3
 * and works in ESM programs where `require` is not defined; older lines get `require` from the
 * console's command-line API (`includeCommandLineAPI`), which Node provides to inspector clients.
 */
const CLOSE_INSPECTOR_EXPRESSION =
  "(() => { const m = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:inspector') : require('node:inspector'); m.close(); return true; })()";

export async function withAttachedProcess<T>(
  pid: number,
  work: (context: AttachContext) => Promise<T>,
  options: AttachOptions = {},
): Promise<AttachOutcome<T>> {
  const log = options.log ?? (() => {});
  const target = await checkAttachable(pid);
  // From the signal on, Ctrl-C/SIGTERM of hangwatch must not leave the inspector open: they are
  // handled (the work stops, the target is cleaned up) instead of ending hangwatch at once.
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new AttachInterruptedError(pid));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { port, url, openedInspector } = await openInspector(target, options, log);
    let main: InspectorConnection;
    try {
      main = await InspectorConnection.open(pid, url, COMMAND_TIMEOUT_MS);
    } catch (err) {
      if (openedInspector) await closeWithoutConnection(pid, url);
      throw new InspectorRefusedError(pid, `refused the connection on port ${port}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      const aborted = new Promise<never>((_, reject) => {
        if (abort.signal.aborted) reject(abort.signal.reason);
        abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
      });
      aborted.catch(() => {});
      const working = abort.signal.aborted
        ? aborted
        : work({ target, main, port, openedInspector, signal: abort.signal });
      const result = options.workHandlesInterrupt ? await working : await Promise.race([working, aborted]);
      const outcome: AttachOutcome<T> = { result, port, openedInspector };
      const still = await cleanUp(main, pid, port, openedInspector);
      if (still) outcome.stillListening = still;
      return outcome;
    } catch (err) {
      const still = await cleanUp(main, pid, port, openedInspector);
      if (still) log(`hangwatch: warning: ${still}`);
      throw err;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The inspector to connect to: one already open, or the one SIGUSR1 opens. */
async function openInspector(
  target: TargetProcess,
  options: AttachOptions,
  log: (line: string) => void,
): Promise<{ port: number; url: string; openedInspector: boolean }> {
  const pid = target.pid;
  const before = await listeningPorts(pid);
  let found = await findOpenInspector(before, target, false);
  if (!found) {
    // Its port already held by another process: SIGUSR1 would only make the target print an error.
    if (
      target.inspectPort !== 0 &&
      !before.some((s) => s.port === target.inspectPort) &&
      (await namespaceListeners(pid)).has(target.inspectPort)
    ) {
      throw new InspectorPortTakenError(pid, target.inspectPort);
    }
    process.kill(pid, 'SIGUSR1');
    found = await waitForNewInspector(target, before, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    if (!found.preexisting) {
      if (!found.url) throw new DebuggerAttachedError(pid, found.port);
      return { port: found.port, url: found.url, openedInspector: true };
    }
    // SIGUSR1 opened nothing new: an inspector was open already (inspector.open() in the program).
  }
  const clients = (await processSockets(pid)).filter((s) => s.state === 'established' && s.port === found.port);
  if (clients.length > 0 || !found.url) throw new DebuggerAttachedError(pid, found.port);
  log(`hangwatch: process ${pid} already has its inspector open on port ${found.port}; using it (it stays open)`);
  return { port: found.port, url: found.url, openedInspector: false };
}

/**
 * Leave the target as it was. The commands are sent together, so a main thread that is inside a
 * native call runs them in order the moment it returns: resume, disable every domain used, then
 * close the inspector (which ends this connection).
 */
async function cleanUp(
  main: InspectorConnection,
  pid: number,
  port: number,
  closeInspector: boolean,
): Promise<string | undefined> {
  if (!main.closed) {
    const steps = [
      main.sendQuietly('Debugger.resume', {}, CLEANUP_TIMEOUT_MS),
      main.sendQuietly('Debugger.disable', {}, CLEANUP_TIMEOUT_MS),
      main.sendQuietly('Profiler.disable', {}, CLEANUP_TIMEOUT_MS),
      main.sendQuietly('HeapProfiler.disable', {}, CLEANUP_TIMEOUT_MS),
      main.sendQuietly('NodeWorker.disable', {}, CLEANUP_TIMEOUT_MS),
    ];
    if (closeInspector) {
      const closed = main.next('hangwatch.closed', CLEANUP_TIMEOUT_MS);
      main.sendQuietly(
        'Runtime.evaluate',
        { expression: CLOSE_INSPECTOR_EXPRESSION, includeCommandLineAPI: true, silent: true },
        CLEANUP_TIMEOUT_MS,
      );
      await Promise.race([closed, Promise.all(steps).then(() => closed)]);
    } else {
      await Promise.all(steps);
    }
    main.close();
  }
  if (!closeInspector) return undefined;
  const deadline = Date.now() + CLEANUP_TIMEOUT_MS;
  for (;;) {
    let listening: boolean;
    try {
      listening = (await listeningPorts(pid)).some((s) => s.port === port);
    } catch {
      return undefined; // the process is gone
    }
    if (!listening) return undefined;
    if (Date.now() >= deadline) {
      return `the inspector of process ${pid} still listens on 127.0.0.1:${port} (its main thread has not run JavaScript since; it closes when it does)`;
    }
    await sleep(POLL_MS * 5);
  }
}

/** The connection could not be made: still close the inspector we opened, through a fresh connection. */
async function closeWithoutConnection(pid: number, url: string): Promise<void> {
  try {
    const connection = await InspectorConnection.open(pid, url, HTTP_TIMEOUT_MS);
    await cleanUp(connection, pid, Number(new URL(url).port), true);
  } catch {
    // nothing more can be done from here; the caller reports the refusal
  }
}

interface FoundInspector {
  port: number;
  /** Found among the listeners the target had before SIGUSR1. */
  preexisting?: boolean;
  /** Absent when the inspector lists the target without a debugger URL (a client holds it). */
  url?: string;
}

/**
 * An inspector the target already had open. Asked (`GET /json/list`): the listener on its
 * configured inspector port; and, when it was started with --inspect (which may choose another
 * port) or `anyLoopback` (SIGUSR1 opened nothing: inspector.open() may have), its listeners on
 * 127.0.0.1/::1 as well. The program's other servers never see a request.
 */
async function findOpenInspector(
  listening: ProcessSocket[],
  target: TargetProcess,
  anyLoopback: boolean,
): Promise<FoundInspector | undefined> {
  const loopback = anyLoopback || target.inspectFlag;
  const candidates = listening.filter(
    (s) => s.port === target.inspectPort || (loopback && (s.address === '127.0.0.1' || s.address === '::1')),
  );
  for (const socket of candidates) {
    const found = await inspectorAt(socket.port);
    if (found) return found;
  }
  return undefined;
}

/** Wait until the target listens on a new port that answers as an inspector. */
async function waitForNewInspector(
  target: TargetProcess,
  before: ProcessSocket[],
  timeoutMs: number,
): Promise<FoundInspector> {
  const known = new Set(before.map((s) => s.port));
  const asked = new Set<number>();
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    for (const socket of await listeningPorts(target.pid)) {
      if (known.has(socket.port) || asked.has(socket.port)) continue;
      const found = await inspectorAt(socket.port);
      if (found) return found;
      asked.add(socket.port);
    }
    await sleep(POLL_MS);
  }
  const already = await findOpenInspector(await listeningPorts(target.pid), target, true);
  if (already) return { ...already, preexisting: true };
  if (target.inspectPort !== 0 && (await namespaceListeners(target.pid)).has(target.inspectPort)) {
    throw new InspectorPortTakenError(target.pid, target.inspectPort);
  }
  try {
    process.kill(target.pid, 0);
  } catch {
    throw new InspectorRefusedError(target.pid, 'did not open: the process exited after SIGUSR1');
  }
  throw new AttachTimeoutError(
    target.pid,
    'did not open its inspector after SIGUSR1: its main thread opens it and has not run JavaScript since (it is inside a native call). The inspector will open on 127.0.0.1 when the call returns, and stay open until the process ends',
    timeoutMs,
  );
}

/** `GET /json/list` on 127.0.0.1:port: the Node target, or undefined when it is not an inspector. */
function inspectorAt(port: number): Promise<FoundInspector | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/json/list', timeout: HTTP_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > 1_000_000) req.destroy();
      });
      res.on('end', () => {
        try {
          const list = JSON.parse(body) as { type?: string; webSocketDebuggerUrl?: string }[];
          const entry = Array.isArray(list) ? list.find((e) => e.type === 'node') : undefined;
          resolve(
            entry ? { port, ...(entry.webSocketDebuggerUrl ? { url: entry.webSocketDebuggerUrl } : {}) } : undefined,
          );
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
