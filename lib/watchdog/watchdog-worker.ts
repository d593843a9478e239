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
import type { RawBlockSample, RawCapture, RawFrame, WatchdogMessage, WatchdogWorkerData } from './worker-protocol.js';

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
  const { f64, i32 } = view(data.buffer, data.layout);
  const { hookKey, commandTimeoutMs, pauseTimeoutMs, maxSamplesPerBlock } = data;

  const post = (message: WatchdogMessage): void => port.postMessage(message);
  const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  /** Slots are always in range: the layout sizes the views. */
  const f = (slot: number): number => f64[slot]!;

  // Keeps this worker's loop alive: pending inspector callbacks and waitAsync do not.
  const keepAlive = setInterval(() => {}, 1 << 30);

  function debug(message: string): void {
    if (!data.debug) return;
    try {
      fs.writeSync(2, `hangwatch watchdog: ${message}\n`);
    } catch {}
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

  // The session to the main thread is connected only while a capture (or a sampled block) lasts:
  // a connected session makes Node print "Waiting for the debugger to disconnect..." when the
  // program calls process.exit(), and disconnecting is also the clean way to cancel commands that
  // are still queued behind a native call.
  let session: Inspector.Session | null = null;
  const scripts = new Map<string, { url: string; sourceMapURL: string }>();
  let debuggerEnabled = false;
  let expectingPause = false;
  // Commands sent to the main thread that have not been answered yet. While the main thread is
  // inside a native call (a big JSON.parse, a sync native addon) nothing is answered.
  let outstanding = 0;
  // Set once the process exits: no session is opened any more.
  let exiting = false;

  function openSession(api: typeof Inspector): Inspector.Session {
    if (exiting) throw new Error('the process is exiting');
    if (session) return session;
    const s = new api.Session();
    s.connectToMainThread();
    s.on('Debugger.scriptParsed', (m) => {
      const p = m.params;
      scripts.set(p.scriptId, { url: p.url, sourceMapURL: p.sourceMapURL || '' });
    });
    // A pause we no longer wait for must never leave the program stopped.
    s.on('Debugger.paused', () => {
      if (!expectingPause && s === session) send('Debugger.resume').catch(() => {});
    });
    session = s;
    return s;
  }

  // Disconnecting ends the debugger for this session: queued commands die with it.
  function closeSession(): void {
    if (!session) return;
    const s = session;
    session = null;
    debuggerEnabled = false;
    outstanding = 0;
    scripts.clear();
    try {
      s.disconnect();
    } catch (err) {
      debug(`disconnect: ${messageOf(err)}`);
    }
  }

  // Post a command; resolves with its answer, however late.
  function send(method: string, params: object = {}): Promise<unknown> {
    const s = session;
    if (!s) return Promise.reject(new Error('no inspector session'));
    outstanding++;
    return new Promise((resolve, reject) => {
      try {
        s.post(method, params, (err, result) => {
          if (s === session) outstanding--;
          if (err) reject(new Error(`${method}: ${err.message || String(err)}`));
          else resolve(result);
        });
      } catch (err) {
        if (s === session) outstanding--;
        reject(err);
      }
    });
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

  function waitForPause(s: Inspector.Session, ms: number): Promise<Inspector.Debugger.PausedEventDataType> {
    let onPaused: ((m: Inspector.InspectorNotification<Inspector.Debugger.PausedEventDataType>) => void) | undefined;
    const paused = new Promise<Inspector.Debugger.PausedEventDataType>((resolve) => {
      onPaused = (m) => resolve(m.params);
      s.once('Debugger.paused', onPaused);
    });
    return within(paused, ms, `the main thread could not be paused within ${ms} ms (it is inside native code)`).catch((err: unknown) => {
      if (onPaused) s.removeListener('Debugger.paused', onPaused);
      throw err;
    });
  }

  function rawFrames(callFrames: Inspector.Debugger.CallFrame[]): Pick<RawCapture, 'frames' | 'sourceMaps'> {
    const frames: RawFrame[] = [];
    const sourceMaps: Record<string, string> = {};
    for (const frame of callFrames) {
      const id = frame.location.scriptId;
      const script = scripts.get(id);
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

  // Pause the main thread, read its stack, run whilePaused (still paused), resume. Time-bounded.
  // Debugger.enable and Debugger.pause are sent back to back: when the main thread is inside a
  // native call that V8 cannot interrupt, both are processed together the moment it returns to
  // JavaScript, so the pause lands at the next statement of the function that made the call.
  async function pauseAndRead(whilePaused: ((capture: RawCapture) => Promise<void>) | null): Promise<RawCapture> {
    if (!inspector) throw new Error('node:inspector is not usable in this process');
    if (outstanding > 0) throw new Error('the main thread has not run JavaScript since an earlier capture request (it is inside native code)');
    const s = openSession(inspector);
    const requestedAt = Date.now();
    expectingPause = true;
    const paused = waitForPause(s, pauseTimeoutMs);
    // The probe's answer says when the main thread first ran our commands: a late answer means it
    // was inside native code until then (Debugger.enable's own work is not counted).
    let answeredAt = 0;
    send('Runtime.evaluate', { expression: '0', silent: true }).then(
      () => {
        answeredAt = Date.now();
      },
      () => {},
    );
    if (!debuggerEnabled) {
      debuggerEnabled = true;
      scripts.clear();
      send('Debugger.enable').catch((err: unknown) => debug(`enable: ${messageOf(err)}`));
    }
    send('Debugger.pause').catch((err: unknown) => debug(`pause: ${messageOf(err)}`));
    let params: Inspector.Debugger.PausedEventDataType;
    try {
      params = await paused;
    } catch (err) {
      expectingPause = false;
      // The queued commands run when the main thread returns to JavaScript, followed by the end of
      // the session, which cancels the pause they asked for.
      closeSession();
      throw err;
    }
    const pausedAt = Date.now();
    const capture: RawCapture = { ...rawFrames(params.callFrames), requestedAt, pausedAt, nativeMs: (answeredAt || pausedAt) - requestedAt };
    try {
      if (whilePaused) await within(whilePaused(capture), commandTimeoutMs, 'the report hook did not finish in time');
    } finally {
      expectingPause = false;
      try {
        await within(send('Debugger.resume'), commandTimeoutMs, 'resume timed out');
      } catch (err) {
        debug(`resume: ${messageOf(err)}`);
      }
    }
    return capture;
  }

  const stackError = inspector ? '' : 'node:inspector is not usable in this process';

  // The process is exiting (the main thread waits for the acknowledgement, briefly): drop the
  // session now, so that exit neither prints "Waiting for the debugger to disconnect..." nor waits.
  async function watchExit(): Promise<void> {
    while (Atomics.load(i32, I_EXITING) === 0) {
      const r = Atomics.waitAsync(i32, I_EXITING, 0);
      if (r.async) await r.value;
    }
    exiting = true;
    expectingPause = false;
    closeSession();
    Atomics.store(i32, I_EXIT_ACK, 1);
    Atomics.notify(i32, I_EXIT_ACK);
  }
  void watchExit();

  async function handleBlockedDeadline(deadline: number): Promise<void> {
    try {
      await pauseAndRead(async (capture) => {
        // Re-check while paused: the main thread may have processed the deadline meanwhile.
        if (f(F_DEADLINES_DONE) >= deadline) return;
        const expression = `globalThis[Symbol.for(${JSON.stringify(hookKey)})].onDeadlineBlocked(${JSON.stringify(JSON.stringify(capture))})`;
        await send('Runtime.evaluate', { expression, returnByValue: true, silent: true });
      });
    } catch (err) {
      // No stack: the main thread is blocked, so the report is made (without stack) when its loop
      // returns; this message says why.
      post({ type: 'capture-failed', reason: messageOf(err) });
    } finally {
      if (!blockKey) closeSession();
    }
  }

  // Block monitor state.
  let blockKey = 0;
  let blockSamples: RawBlockSample[] = [];
  let blockDetectedAt = 0;
  let nextSampleAt = 0;
  let blockError = '';
  let blockDropped = '';

  async function sampleBlock(now: number): Promise<void> {
    const hb = f(F_HEARTBEAT);
    if (blockKey !== hb) {
      if (blockKey) finishBlock();
      blockKey = hb;
      f64[F_BLOCK_KEY] = hb;
      blockSamples = [];
      blockDetectedAt = now;
      nextSampleAt = now;
      blockError = '';
      blockDropped = '';
    }
    if (now >= nextSampleAt && blockSamples.length < maxSamplesPerBlock && inspector && !blockError) {
      try {
        const capture = await pauseAndRead(null);
        const captureMs = capture.pausedAt - capture.requestedAt;
        // The heartbeat moved while we paused: the stack is not from this block.
        if (f(F_HEARTBEAT) === hb) {
          blockSamples.push({ at: capture.pausedAt, captureMs, pauseDelayMs: capture.nativeMs, frames: capture.frames, sourceMaps: capture.sourceMaps });
        } else {
          blockDropped = `the block ended while the watchdog was pausing the main thread (${captureMs} ms)`;
          debug(`sample dropped: ${blockDropped}`);
        }
      } catch (err) {
        blockError = messageOf(err);
        debug(`sample failed: ${blockError}`);
      }
      const interval = Math.max(1, Atomics.load(i32, I_SAMPLE_INTERVAL));
      // Back off on long blocks: at most maxSamplesPerBlock samples, spread over the block.
      const stretch = blockSamples.length > 20 ? 4 : blockSamples.length > 10 ? 2 : 1;
      nextSampleAt = Date.now() + interval * stretch;
    }
  }

  function finishBlock(): void {
    const key = blockKey;
    blockKey = 0;
    // Posted before the key is cleared: a main thread that waits for the key to clear
    // (Watchdog.drainMessages) then finds the samples on its port.
    post({
      type: 'block',
      key,
      detectedAt: blockDetectedAt,
      endedAt: Date.now(),
      threshold: Atomics.load(i32, I_BLOCK_THRESHOLD),
      samples: blockSamples,
      error: blockError || (blockSamples.length ? '' : blockDropped) || stackError,
    });
    f64[F_BLOCK_KEY] = 0;
    blockSamples = [];
  }

  // Runs until the main thread terminates this worker.
  async function watch(): Promise<never> {
    for (;;) {
      const seq = Atomics.load(i32, I_WAKE);
      const now = Date.now();
      let wakeAt = Number.POSITIVE_INFINITY;

      const deadline = f(F_NEXT_DEADLINE);
      if (deadline > 0 && f(F_DEADLINES_DONE) < deadline) {
        const due = deadline + Atomics.load(i32, I_DEADLINE_GRACE);
        if (now >= due) {
          if (inspector && outstanding === 0) await handleBlockedDeadline(deadline);
          // The hook advanced F_NEXT_DEADLINE / F_DEADLINES_DONE; if it could not run, check again soon.
          if (f(F_DEADLINES_DONE) < deadline && f(F_NEXT_DEADLINE) === deadline) wakeAt = Date.now() + 250;
        } else {
          wakeAt = Math.min(wakeAt, due);
        }
      }

      const threshold = Atomics.load(i32, I_BLOCK_THRESHOLD);
      const hb = f(F_HEARTBEAT);
      if (threshold > 0 && hb > 0) {
        const t = Date.now();
        if (t - hb >= threshold) {
          await sampleBlock(t);
          wakeAt = Math.min(wakeAt, nextSampleAt, Date.now() + Math.max(1, Atomics.load(i32, I_SAMPLE_INTERVAL)));
        } else {
          if (blockKey) {
            finishBlock();
            closeSession();
          }
          wakeAt = Math.min(wakeAt, hb + threshold);
        }
      } else if (blockKey) {
        finishBlock();
        closeSession();
      }

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
