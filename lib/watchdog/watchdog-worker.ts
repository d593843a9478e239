/**
 * The watchdog worker thread: typed here, run as `new Worker(WATCHDOG_WORKER_SOURCE, { eval: true })`.
 *
 * Why an eval'd function and not a file loaded by path: the source is `runWatchdogWorker`'s own
 * text, so it needs no file on disk and no resolution — it runs the same from lib/*.ts under tsx,
 * from dist/esm and dist/cjs, and inside a user's bundle (a worker file would have to be found
 * next to whichever of those is running, and a `.ts` one would need the program's loader in a
 * worker whose execArgv is empty on purpose). The price is the rule this file keeps:
 * `runWatchdogWorker` and `viewSharedState` use nothing but their arguments and globals — no
 * module import at run time (type imports are erased), builtins through the `require` it is
 * given (the eval'd worker is CommonJS; a parameter, so that no bundler rewrites the call).
 * esbuild's `keepNames` (tsx, and users' bundles) inserts `__name(fn, "name")` calls inside the
 * function, the helper renamed when minified: the prelude defines a no-op under the name this copy
 * uses (`keepNamesHelper`). Constants come from `workerData.layout` (shared-state.ts);
 * message shapes are in worker-protocol.ts.
 *
 * What the worker does, on its own event loop:
 *  - waits (Atomics.waitAsync) until the next moment something can be due: a hang deadline plus
 *    grace, or the block monitor's heartbeat plus threshold;
 *  - if the main thread missed a hang deadline (it is blocked), pauses it through an inspector
 *    session (`connectToMainThread`, `Debugger.pause`), reads the call frames and, still paused,
 *    evaluates the main thread's hook so that the report is built and written right away;
 *  - if the heartbeat is stale past the threshold (block monitor), samples the blocked stack
 *    every sample interval until the heartbeat moves again, then posts the samples.
 * Diagnostics go through fs.writeSync: a worker's console is relayed by the main thread, which
 * may be the thread that is blocked.
 */
import type * as Inspector from 'node:inspector';
import { viewSharedState } from './shared-state.js';
import type {
  RawBlockSample,
  RawCapture,
  RawFrame,
  WatchdogCommand,
  WatchdogMessage,
  WatchdogWorkerData,
} from './worker-protocol.js';

/**
 * The worker's body. Runs in the worker only; uses nothing but its arguments (see above). Its
 * text is eval'd, so coverage cannot map it back to this file: it is left out of the coverage
 * count, and test/watchdog/watchdog-worker.test.ts runs it in each form hangwatch ships in.
 */
/* c8 ignore start */
export function runWatchdogWorker(req: NodeJS.Require, view: typeof viewSharedState): void {
  const { workerData, parentPort } = req('node:worker_threads') as typeof import('node:worker_threads');
  const fs = req('node:fs') as typeof import('node:fs');
  const data = workerData as WatchdogWorkerData;
  const port = data.port ?? parentPort!;
  const { F_NEXT_DEADLINE, F_DEADLINES_DONE, F_HEARTBEAT, F_BLOCK_KEY } = data.layout;
  const { I_WAKE, I_BLOCK_THRESHOLD, I_SAMPLE_INTERVAL, I_DEADLINE_GRACE, I_EXITING, I_EXIT_ACK } = data.layout;
  const { commandTimeoutMs, pauseTimeoutMs, maxSamplesPerBlock } = data;

  const post = (message: WatchdogMessage): void => port.postMessage(message);
  const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

  // Keeps this worker's loop alive: pending inspector callbacks and waitAsync do not.
  const keepAlive = setInterval(() => {}, 1 << 30);

  function debug(message: string): void {
    if (!data.debug) return;
    try {
      fs.writeSync(2, `hangwatch watchdog: ${message}\n`);
    } catch {}
  }

  /**
   * A watched thread: the main thread (0, always) or a worker thread that registered. The main
   * thread is reached through the session itself, a worker thread through the session's NodeWorker
   * domain (its own session id).
   */
  interface Target {
    threadId: number;
    hookKey: string;
    f64: Float64Array;
    i32: Int32Array;
    /** NodeWorker session of a worker thread, while attached. */
    workerSessionId: string | null;
    /** A worker thread's name, learnt when attaching to it ('' when it has none). */
    name: string;
    scripts: Map<string, { url: string; sourceMapURL: string }>;
    debuggerEnabled: boolean;
    expectingPause: boolean;
    onPaused: ((params: Inspector.Debugger.PausedEventDataType) => void) | null;
    /** Ends the wait for a pause that can no longer come (the session closed, the thread is gone). */
    abortPause: ((reason: string) => void) | null;
    /**
     * Commands sent to the thread that have not been answered yet. While it is inside a native
     * call (a big JSON.parse, a sync native addon) nothing is answered.
     */
    outstanding: number;
    /** A capture of this thread is in flight: the loop starts no other for it. */
    busy: boolean;
    /** A missed deadline whose capture failed or could not start is retried from then. */
    deadlineRetryAt: number;
    // Block monitor state.
    blockKey: number;
    blockSamples: RawBlockSample[];
    blockDetectedAt: number;
    nextSampleAt: number;
    blockError: string;
    blockDropped: string;
  }

  function makeTarget(threadId: number, buffer: SharedArrayBuffer, hookKey: string): Target {
    const { f64, i32 } = view(buffer, data.layout);
    return {
      threadId,
      hookKey,
      f64,
      i32,
      workerSessionId: null,
      name: '',
      scripts: new Map(),
      debuggerEnabled: false,
      expectingPause: false,
      onPaused: null,
      abortPause: null,
      outstanding: 0,
      busy: false,
      deadlineRetryAt: 0,
      blockKey: 0,
      blockSamples: [],
      blockDetectedAt: 0,
      nextSampleAt: 0,
      blockError: '',
      blockDropped: '',
    };
  }

  const main = makeTarget(0, data.buffer, data.hookKey);
  /** The watchdog's own cells (wake, exit) are the main thread's. */
  const i32 = main.i32;
  const targets = new Map<number, Target>([[0, main]]);
  /** Slots are always in range: the layout sizes the views. */
  const f = (t: Target, slot: number): number => t.f64[slot]!;
  const threadName = (t: Target): string => (t.threadId === 0 ? 'the main thread' : `worker thread ${t.threadId}`);

  function wakeLoop(): void {
    Atomics.add(i32, I_WAKE, 1);
    Atomics.notify(i32, I_WAKE);
  }

  let inspector: typeof Inspector | null = null;
  try {
    inspector = req('node:inspector') as typeof Inspector;
    // Check once that a session to the main thread can be made at all.
    const probe = new inspector.Session();
    probe.connectToMainThread();
    probe.disconnect();
    post({ type: 'ready', stacks: true });
  } catch (err) {
    inspector = null;
    post({ type: 'ready', stacks: false, reason: `node:inspector is not usable in this process: ${messageOf(err)}` });
  }
  const stackError = inspector ? '' : 'node:inspector is not usable in this process';

  // The session to the main thread is connected only while a capture (or a sampled block) lasts:
  // a connected session makes Node print "Waiting for the debugger to disconnect..." when the
  // program calls process.exit(), and disconnecting is also the clean way to cancel commands that
  // are still queued behind a native call. Worker threads are reached through it (NodeWorker).
  let session: Inspector.Session | null = null;
  // Set once the process exits: no session is opened any more.
  let exiting = false;
  let nodeWorkerEnabled = false;
  /** threadId → NodeWorker session id and worker name, for the threads attached to this session. */
  const attached = new Map<number, { sessionId: string; name: string }>();
  const attachWaiters = new Map<number, () => void>();
  let nextWorkerCommandId = 1;
  const workerCommands = new Map<number, (answer: { result?: unknown; error?: { message?: string } }) => void>();

  function openSession(api: typeof Inspector): Inspector.Session {
    if (exiting) throw new Error('the process is exiting');
    if (session) return session;
    const s = new api.Session();
    s.connectToMainThread();
    s.on('Debugger.scriptParsed', (m) => onScriptParsed(main, m.params));
    s.on('Debugger.paused', (m) => {
      if (s === session) onPaused(main, m.params);
    });
    s.on('NodeWorker.attachedToWorker', (m) => {
      // workerId is the inspector's own numbering; the thread id is in the title Node gives
      // every worker: "[worker <threadId>] <name>".
      const title = /^\[worker (\d+)\] ?(.*)$/.exec(m.params.workerInfo.title);
      const threadId = Number(title?.[1] ?? -1);
      debug(`attached to thread ${threadId} (${m.params.workerInfo.title})`);
      const worker = { sessionId: m.params.sessionId, name: title?.[2] ?? '' };
      attached.set(threadId, worker);
      const t = targets.get(threadId);
      if (t) {
        t.workerSessionId = worker.sessionId;
        t.name = worker.name;
      }
      const waiter = attachWaiters.get(threadId);
      if (waiter) {
        attachWaiters.delete(threadId);
        waiter();
      }
    });
    // The thread is gone (it exited or was terminated): forget it; its hangwatch is told, if alive.
    s.on('NodeWorker.detachedFromWorker', (m) => {
      for (const [threadId, worker] of attached) {
        if (worker.sessionId !== m.params.sessionId) continue;
        attached.delete(threadId);
        const t = targets.get(threadId);
        if (t) loseThread(t, 'the thread exited');
      }
    });
    s.on('NodeWorker.receivedMessageFromWorker', (m) => {
      let msg: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(m.params.message) as typeof msg;
      } catch {
        return;
      }
      if (msg.id !== undefined) {
        const answer = workerCommands.get(msg.id);
        if (answer) {
          workerCommands.delete(msg.id);
          answer(msg);
        }
        return;
      }
      for (const t of targets.values()) {
        if (t.workerSessionId !== m.params.sessionId) continue;
        if (msg.method === 'Debugger.scriptParsed')
          onScriptParsed(t, msg.params as Inspector.Debugger.ScriptParsedEventDataType);
        else if (msg.method === 'Debugger.paused') onPaused(t, msg.params as Inspector.Debugger.PausedEventDataType);
      }
    });
    session = s;
    return s;
  }

  // A pause nobody waits for must never leave the thread stopped.
  function onPaused(t: Target, params: Inspector.Debugger.PausedEventDataType): void {
    const waiter = t.onPaused;
    t.onPaused = null;
    if (waiter) waiter(params);
    else if (!t.expectingPause) send(t, 'Debugger.resume').catch(() => {});
  }

  function onScriptParsed(t: Target, p: Inspector.Debugger.ScriptParsedEventDataType): void {
    t.scripts.set(p.scriptId, { url: p.url, sourceMapURL: p.sourceMapURL || '' });
  }

  /** Forget a worker thread: it exited, or cannot be reached. Its hangwatch is told why. */
  function loseThread(t: Target, reason: string): void {
    if (targets.get(t.threadId) !== t) return;
    targets.delete(t.threadId);
    t.abortPause?.(`${threadName(t)} is gone: ${reason}`);
    debug(`lost ${threadName(t)}: ${reason}`);
    post({ type: 'thread-lost', threadId: t.threadId, reason });
  }

  // Disconnecting ends the debugger for this session: queued commands die with it.
  function closeSession(): void {
    if (!session) return;
    const s = session;
    session = null;
    nodeWorkerEnabled = false;
    attached.clear();
    for (const t of targets.values()) {
      t.abortPause?.('the inspector session was closed');
      t.workerSessionId = null;
      t.debuggerEnabled = false;
      t.outstanding = 0;
      t.scripts.clear();
    }
    for (const answer of workerCommands.values()) answer({ error: { message: 'the session was closed' } });
    workerCommands.clear();
    try {
      s.disconnect();
    } catch (err) {
      debug(`disconnect: ${messageOf(err)}`);
    }
  }

  // No session while nothing is captured or sampled on any thread.
  function closeSessionIfIdle(): void {
    for (const t of targets.values()) if (t.busy || t.blockKey) return;
    closeSession();
  }

  // Post a command to a thread; resolves with its answer, however late.
  function send(t: Target, method: string, params: object = {}): Promise<unknown> {
    const s = session;
    if (!s) return Promise.reject(new Error('no inspector session'));
    if (t.threadId !== 0) return sendToWorker(s, t, method, params);
    t.outstanding++;
    return new Promise((resolve, reject) => {
      try {
        s.post(method, params, (err, result) => {
          if (s === session) t.outstanding--;
          if (err) reject(new Error(`${method}: ${err.message || String(err)}`));
          else resolve(result);
        });
      } catch (err) {
        if (s === session) t.outstanding--;
        reject(err);
      }
    });
  }

  function sendToWorker(s: Inspector.Session, t: Target, method: string, params: object): Promise<unknown> {
    const sessionId = t.workerSessionId;
    if (!sessionId) return Promise.reject(new Error(`${threadName(t)} is not attached`));
    const id = nextWorkerCommandId++;
    t.outstanding++;
    return new Promise((resolve, reject) => {
      workerCommands.set(id, (answer) => {
        if (s === session) t.outstanding--;
        if (answer.error) reject(new Error(`${method}: ${answer.error.message ?? 'failed'}`));
        else resolve(answer.result);
      });
      s.post(
        'NodeWorker.sendMessageToWorker',
        { sessionId, message: JSON.stringify({ id, method, params }) },
        (err) => {
          if (err && workerCommands.delete(id)) {
            if (s === session) t.outstanding--;
            reject(new Error(`${method}: ${err.message}`));
          }
        },
      );
    });
  }

  // A worker thread's session: NodeWorker.enable on the main-thread session attaches every worker
  // thread; wait for this one. The main thread relays these messages: at its next interrupt check
  // while it runs JavaScript, not while it sits inside a native call.
  async function attach(api: typeof Inspector, t: Target): Promise<void> {
    if (t.workerSessionId) return;
    const s = openSession(api);
    const known = attached.get(t.threadId);
    if (known) {
      t.workerSessionId = known.sessionId;
      t.name = known.name;
      return;
    }
    debug(`attaching ${threadName(t)}`);
    const waiting = new Promise<void>((resolve) => attachWaiters.set(t.threadId, resolve));
    if (!nodeWorkerEnabled) {
      nodeWorkerEnabled = true;
      send(main, 'NodeWorker.enable', { waitForDebuggerOnStart: false }).catch((err: unknown) =>
        debug(`NodeWorker.enable: ${messageOf(err)}`),
      );
    }
    try {
      await within(
        waiting,
        commandTimeoutMs,
        `${threadName(t)} could not be reached through the main thread (it exited, or the main thread is inside native code)`,
      );
    } finally {
      attachWaiters.delete(t.threadId);
    }
    if (s !== session) throw new Error('the session ended while attaching');
  }

  function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(what)), ms);
      promise.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  function waitForPause(t: Target, ms: number): Promise<Inspector.Debugger.PausedEventDataType> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        t.onPaused = null;
        t.abortPause = null;
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`${threadName(t)} could not be paused within ${ms} ms (it is inside native code)`));
      }, ms);
      t.onPaused = (params) => {
        settle();
        resolve(params);
      };
      t.abortPause = (reason) => {
        settle();
        reject(new Error(reason));
      };
    });
  }

  function rawFrames(t: Target, callFrames: Inspector.Debugger.CallFrame[]): Pick<RawCapture, 'frames' | 'sourceMaps'> {
    const frames: RawFrame[] = [];
    const sourceMaps: Record<string, string> = {};
    for (const frame of callFrames) {
      const id = frame.location.scriptId;
      const script = t.scripts.get(id);
      frames.push({
        functionName: frame.functionName,
        url: frame.url || script?.url || '',
        scriptId: id,
        lineNumber: frame.location.lineNumber,
        columnNumber: frame.location.columnNumber || 0,
      });
      if (script?.sourceMapURL && !sourceMaps[id]) sourceMaps[id] = script.sourceMapURL;
    }
    return { frames, sourceMaps };
  }

  // Pause a thread, read its stack, run whilePaused (still paused), resume. Time-bounded.
  // Debugger.enable and Debugger.pause are sent back to back: when the thread is inside a native
  // call that V8 cannot interrupt, both are processed together the moment it returns to
  // JavaScript, so the pause lands at the next statement of the function that made the call.
  async function pauseAndRead(
    t: Target,
    whilePaused: ((capture: RawCapture) => Promise<void>) | null,
  ): Promise<RawCapture> {
    if (!inspector) throw new Error('node:inspector is not usable in this process');
    if (t.outstanding > 0)
      throw new Error(
        `${threadName(t)} has not run JavaScript since an earlier capture request (it is inside native code)`,
      );
    openSession(inspector);
    if (t.threadId !== 0) {
      try {
        await attach(inspector, t);
      } catch (err) {
        loseThread(t, messageOf(err));
        throw err;
      }
    }
    const requestedAt = Date.now();
    t.expectingPause = true;
    const paused = waitForPause(t, pauseTimeoutMs);
    // The probe's answer says when the thread first ran our commands: a late answer means it
    // was inside native code until then (Debugger.enable's own work is not counted).
    let answeredAt = 0;
    send(t, 'Runtime.evaluate', { expression: '0', silent: true }).then(
      () => {
        answeredAt = Date.now();
      },
      () => {},
    );
    if (!t.debuggerEnabled) {
      t.debuggerEnabled = true;
      t.scripts.clear();
      send(t, 'Debugger.enable').catch((err: unknown) => debug(`enable: ${messageOf(err)}`));
    }
    send(t, 'Debugger.pause').catch((err: unknown) => debug(`pause: ${messageOf(err)}`));
    let params: Inspector.Debugger.PausedEventDataType;
    try {
      params = await paused;
    } catch (err) {
      t.expectingPause = false;
      // The main thread's queued commands run when it returns to JavaScript, followed by the end
      // of the session, which cancels the pause they asked for. A worker thread's pause, should
      // it land later, finds nobody waiting and is resumed (onPaused).
      if (t.threadId === 0) closeSession();
      throw err;
    }
    const pausedAt = Date.now();
    debug(`${threadName(t)} paused after ${pausedAt - requestedAt} ms`);
    const capture: RawCapture = {
      ...rawFrames(t, params.callFrames),
      requestedAt,
      pausedAt,
      nativeMs: (answeredAt || pausedAt) - requestedAt,
    };
    try {
      if (whilePaused) await within(whilePaused(capture), commandTimeoutMs, 'the report hook did not finish in time');
    } finally {
      t.expectingPause = false;
      try {
        await within(send(t, 'Debugger.resume'), commandTimeoutMs, 'resume timed out');
      } catch (err) {
        debug(`resume: ${messageOf(err)}`);
      }
    }
    return capture;
  }

  // The process is exiting (the main thread waits for the acknowledgement, briefly): drop the
  // session now, so that exit neither prints "Waiting for the debugger to disconnect..." nor waits.
  async function watchExit(): Promise<void> {
    while (Atomics.load(i32, I_EXITING) === 0) {
      const r = Atomics.waitAsync(i32, I_EXITING, 0);
      if (r.async) await r.value;
    }
    exiting = true;
    for (const t of targets.values()) t.expectingPause = false;
    closeSession();
    Atomics.store(i32, I_EXIT_ACK, 1);
    Atomics.notify(i32, I_EXIT_ACK);
  }
  void watchExit();

  port.on('message', (command: WatchdogCommand) => {
    if (command.type === 'add-thread') {
      if (command.threadId === 0 || targets.has(command.threadId)) return;
      targets.set(command.threadId, makeTarget(command.threadId, command.buffer, command.hookKey));
      debug(`watching worker thread ${command.threadId}`);
    } else if (command.type === 'remove-thread') {
      const t = targets.get(command.threadId);
      if (!t || t.threadId === 0) return;
      targets.delete(t.threadId);
      t.abortPause?.(`${threadName(t)} left`);
      debug(`forgot worker thread ${t.threadId}`);
      closeSessionIfIdle();
    }
    wakeLoop();
  });

  async function handleBlockedDeadline(t: Target, deadline: number): Promise<void> {
    try {
      await pauseAndRead(t, async (capture) => {
        // Re-check while paused: the thread may have processed the deadline meanwhile.
        if (f(t, F_DEADLINES_DONE) >= deadline) return;
        const expression = `globalThis[Symbol.for(${JSON.stringify(t.hookKey)})].onDeadlineBlocked(${JSON.stringify(JSON.stringify(capture))})`;
        await send(t, 'Runtime.evaluate', { expression, returnByValue: true, silent: true });
      });
    } catch (err) {
      // No stack: the thread is blocked, so the report is made (without stack) when its loop
      // returns; this message says why.
      post({ type: 'capture-failed', threadId: t.threadId, reason: messageOf(err) });
    }
  }

  async function sampleBlock(t: Target, now: number): Promise<void> {
    const hb = f(t, F_HEARTBEAT);
    if (t.blockKey !== hb) {
      if (t.blockKey) finishBlock(t);
      t.blockKey = hb;
      t.f64[F_BLOCK_KEY] = hb;
      t.blockSamples = [];
      t.blockDetectedAt = now;
      t.nextSampleAt = now;
      t.blockError = '';
      t.blockDropped = '';
    }
    if (now >= t.nextSampleAt && t.blockSamples.length < maxSamplesPerBlock && inspector && !t.blockError) {
      try {
        const capture = await pauseAndRead(t, null);
        const captureMs = capture.pausedAt - capture.requestedAt;
        // The heartbeat moved while we paused: the stack is not from this block. A pause with
        // no JavaScript frame (it landed between tasks) says nothing either: the next one will.
        if (capture.frames.length === 0) {
          t.blockDropped = `the watchdog paused ${threadName(t)} where no JavaScript frame was on the stack`;
          debug(`sample dropped: ${t.blockDropped}`);
        } else if (f(t, F_HEARTBEAT) === hb) {
          t.blockSamples.push({
            at: capture.pausedAt,
            captureMs,
            pauseDelayMs: capture.nativeMs,
            frames: capture.frames,
            sourceMaps: capture.sourceMaps,
          });
        } else {
          t.blockDropped = `the block ended while the watchdog was pausing ${threadName(t)} (${captureMs} ms)`;
          debug(`sample dropped: ${t.blockDropped}`);
        }
      } catch (err) {
        debug(`sample failed: ${messageOf(err)}`);
        // An error of a block already finished must not mark the next one.
        if (t.blockKey === hb) t.blockError = messageOf(err);
      }
      const interval = Math.max(1, Atomics.load(t.i32, I_SAMPLE_INTERVAL));
      // Back off on long blocks: at most maxSamplesPerBlock samples, spread over the block.
      const stretch = t.blockSamples.length > 20 ? 4 : t.blockSamples.length > 10 ? 2 : 1;
      t.nextSampleAt = Date.now() + interval * stretch;
    }
  }

  function finishBlock(t: Target): void {
    const key = t.blockKey;
    t.blockKey = 0;
    // Posted before the key is cleared: a main thread that waits for the key to clear
    // (Watchdog.drainMessages) then finds the samples on its port.
    post({
      type: 'block',
      threadId: t.threadId,
      ...(t.name ? { threadName: t.name } : {}),
      key,
      detectedAt: t.blockDetectedAt,
      endedAt: Date.now(),
      threshold: Atomics.load(t.i32, I_BLOCK_THRESHOLD),
      samples: t.blockSamples,
      error:
        t.blockError ||
        (t.blockSamples.length
          ? ''
          : t.blockDropped || (t.busy ? `the block ended while the watchdog was pausing ${threadName(t)}` : '')) ||
        stackError,
    });
    t.f64[F_BLOCK_KEY] = 0;
    t.blockSamples = [];
  }

  /**
   * Run a capture of `t` without holding up the loop: a thread that cannot be paused (inside
   * native code, or idle in a native wait) delays only its own captures, never another thread's.
   */
  function start(t: Target, capture: Promise<void>): void {
    t.busy = true;
    capture
      .catch((err: unknown) => debug(`${threadName(t)}: ${messageOf(err)}`))
      .finally(() => {
        t.busy = false;
        closeSessionIfIdle();
        wakeLoop();
      });
  }

  /** What is due for `t` now: start it; returns when `t` next needs a look. */
  function check(t: Target, now: number): number {
    let wakeAt = Number.POSITIVE_INFINITY;
    const deadline = f(t, F_NEXT_DEADLINE);
    if (deadline > 0 && f(t, F_DEADLINES_DONE) < deadline) {
      const due = Math.max(deadline + Atomics.load(t.i32, I_DEADLINE_GRACE), t.deadlineRetryAt);
      if (now < due) wakeAt = due;
      else if (!t.busy) {
        // The hook advances F_NEXT_DEADLINE / F_DEADLINES_DONE; if it could not run, look again soon.
        t.deadlineRetryAt = now + 250;
        if (inspector && t.outstanding === 0) {
          start(t, handleBlockedDeadline(t, deadline));
          return wakeAt;
        }
        wakeAt = t.deadlineRetryAt;
      }
    }
    const threshold = Atomics.load(t.i32, I_BLOCK_THRESHOLD);
    const hb = f(t, F_HEARTBEAT);
    // The block is over (the heartbeat moved, or the monitor stopped): its samples go now, even
    // while a capture is still in flight — a sample taken after the heartbeat moved is dropped.
    if (t.blockKey && !(threshold > 0 && hb === t.blockKey && now - hb >= threshold)) {
      finishBlock(t);
      closeSessionIfIdle();
    }
    if (t.busy) return wakeAt;

    if (threshold > 0 && hb > 0) {
      if (now - hb >= threshold) {
        const sampling = inspector !== null && !t.blockError && t.blockSamples.length < maxSamplesPerBlock;
        if (t.blockKey !== hb || (sampling && now >= t.nextSampleAt)) {
          start(t, sampleBlock(t, now));
          return wakeAt;
        }
        // Until the next sample, or until the heartbeat moves (it is not notified: polled).
        return Math.min(
          wakeAt,
          sampling ? t.nextSampleAt : Number.POSITIVE_INFINITY,
          now + Math.max(1, Atomics.load(t.i32, I_SAMPLE_INTERVAL)),
        );
      }
      return Math.min(wakeAt, hb + threshold);
    }
    return wakeAt;
  }

  // Runs until the main thread terminates this worker.
  async function watch(): Promise<never> {
    for (;;) {
      const seq = Atomics.load(i32, I_WAKE);
      let wakeAt = Number.POSITIVE_INFINITY;
      for (const t of [...targets.values()]) wakeAt = Math.min(wakeAt, check(t, Date.now()));
      const timeout = wakeAt === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(1, wakeAt - Date.now());
      const result = Atomics.waitAsync(i32, I_WAKE, seq, timeout);
      if (result.async) await result.value;
    }
  }

  watch().catch((err: unknown) => {
    try {
      post({ type: 'fatal', reason: String((err instanceof Error && err.stack) || err) });
    } catch {}
    clearInterval(keepAlive);
  });
}
/* c8 ignore stop */

/**
 * What esbuild's `keepNames` calls its naming helper in this copy of the code: `__name` under tsx,
 * a one-letter name in a user's minified bundle. It wraps every named function, inside
 * `runWatchdogWorker` too, and is defined outside it; the eval source defines a no-op under the
 * same name. Undefined when no such helper was inserted (tsc's builds, other bundlers).
 */
export function keepNamesHelper(): string | undefined {
  return /([A-Za-z_$][\w$]*)\(\s*[A-Za-z_$][\w$]*\s*,\s*["'`]probe["'`]\s*\)/.exec(keepNamesProbe.toString())?.[1];
}

function keepNamesProbe(): () => void {
  function probe(): void {}
  return probe;
}

/**
 * The eval source of the worker: a no-op naming helper for esbuild's `keepNames`, then
 * `runWatchdogWorker` called with the worker's `require` and a copy of `viewSharedState`.
 */
export const WATCHDOG_WORKER_SOURCE = [
  "'use strict';",
  `var ${keepNamesHelper() ?? '__name'} = function (target) { return target; };`,
  `(${runWatchdogWorker.toString()})(require, ${viewSharedState.toString()});`,
].join('\n');
