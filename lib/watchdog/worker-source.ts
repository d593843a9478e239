/**
 * Source of the watchdog worker thread, run with `new Worker(source, { eval: true })` so that it
 * needs no file on disk (it works the same from TypeScript sources, the ESM build, the CJS build
 * and bundles). Keep it plain JavaScript: no template placeholders, no backticks, no imports.
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
export const WATCHDOG_WORKER_SOURCE = String.raw`
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');

const F_NEXT_DEADLINE = 0, F_DEADLINES_DONE = 1, F_HEARTBEAT = 2, F_BLOCK_KEY = 3;
const I_WAKE = 0, I_BLOCK_THRESHOLD = 1, I_SAMPLE_INTERVAL = 2, I_DEADLINE_GRACE = 3, I_EXITING = 4, I_EXIT_ACK = 5;
const buffer = workerData.buffer;
const f64 = new Float64Array(buffer, 0, workerData.f64Slots);
const i32 = new Int32Array(buffer, workerData.f64Slots * 8, workerData.i32Slots);
const hookKey = workerData.hookKey;
const commandTimeoutMs = workerData.commandTimeoutMs;
const pauseTimeoutMs = workerData.pauseTimeoutMs;
const maxSamplesPerBlock = workerData.maxSamplesPerBlock;

// Keeps this worker's loop alive: pending inspector callbacks and waitAsync do not.
const keepAlive = setInterval(function () {}, 1 << 30);

function debug(message) {
  if (workerData.debug) { try { fs.writeSync(2, 'hangwatch watchdog: ' + message + '\n'); } catch (e) {} }
}

let inspector = null;
try {
  inspector = require('node:inspector');
  // Check once that a session to the main thread can be made at all.
  const probe = new inspector.Session();
  probe.connectToMainThread();
  probe.disconnect();
  parentPort.postMessage({ type: 'ready', stacks: true });
} catch (err) {
  inspector = null;
  parentPort.postMessage({ type: 'ready', stacks: false, reason: 'node:inspector is not usable in this process: ' + (err && err.message) });
}

// The session to the main thread is connected only while a capture (or a sampled block) lasts:
// a connected session makes Node print "Waiting for the debugger to disconnect..." when the
// program calls process.exit(), and disconnecting is also the clean way to cancel commands that
// are still queued behind a native call.
let session = null;
const scripts = new Map();
let debuggerEnabled = false;
let expectingPause = false;
// Commands sent to the main thread that have not been answered yet. While the main thread is
// inside a native call (a big JSON.parse, a sync native addon) nothing is answered.
let outstanding = 0;

// Set once the process exits: no session is opened any more.
let exiting = false;

function openSession() {
  if (exiting) throw new Error('the process is exiting');
  if (session) return session;
  const s = new inspector.Session();
  s.connectToMainThread();
  s.on('Debugger.scriptParsed', function (m) {
    const p = m.params;
    scripts.set(p.scriptId, { url: p.url, sourceMapURL: p.sourceMapURL || '' });
  });
  // A pause we no longer wait for must never leave the program stopped.
  s.on('Debugger.paused', function () {
    if (!expectingPause && s === session) send('Debugger.resume', {}).catch(function () {});
  });
  session = s;
  return s;
}

// Disconnecting ends the debugger for this session: queued commands die with it.
function closeSession() {
  if (!session) return;
  const s = session;
  session = null;
  debuggerEnabled = false;
  outstanding = 0;
  scripts.clear();
  try { s.disconnect(); } catch (e) { debug('disconnect: ' + e.message); }
}

// Post a command; resolves with its answer, however late.
function send(method, params) {
  const s = session;
  if (!s) return Promise.reject(new Error('no inspector session'));
  outstanding++;
  return new Promise(function (resolve, reject) {
    try {
      s.post(method, params || {}, function (err, result) {
        if (s === session) outstanding--;
        if (err) reject(new Error(method + ': ' + (err.message || String(err)))); else resolve(result);
      });
    } catch (err) {
      if (s === session) outstanding--;
      reject(err);
    }
  });
}

function within(promise, ms, what) {
  return new Promise(function (resolve, reject) {
    const timer = setTimeout(function () { reject(new Error(what)); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function waitForPause(s, ms) {
  let onPaused;
  const promise = new Promise(function (resolve) {
    onPaused = function (m) { resolve(m.params); };
    s.once('Debugger.paused', onPaused);
  });
  return within(promise, ms, 'the main thread could not be paused within ' + ms + ' ms (it is inside native code)')
    .catch(function (err) { s.removeListener('Debugger.paused', onPaused); throw err; });
}

function rawFrames(callFrames) {
  const frames = [];
  const scriptTable = {};
  for (const f of callFrames) {
    const id = f.location.scriptId;
    const s = scripts.get(id);
    frames.push({
      functionName: f.functionName,
      url: f.url || (s && s.url) || '',
      scriptId: id,
      lineNumber: f.location.lineNumber,
      columnNumber: f.location.columnNumber || 0,
    });
    if (s && s.sourceMapURL && !scriptTable[id]) scriptTable[id] = s.sourceMapURL;
  }
  return { frames: frames, sourceMaps: scriptTable };
}

// Pause the main thread, read its stack, run whilePaused (still paused), resume. Time-bounded.
// Debugger.enable and Debugger.pause are sent back to back: when the main thread is inside a
// native call that V8 cannot interrupt, both are processed together the moment it returns to
// JavaScript, so the pause lands at the next statement of the function that made the call.
async function pauseAndRead(whilePaused) {
  if (!inspector) throw new Error('node:inspector is not usable in this process');
  if (outstanding > 0) throw new Error('the main thread has not run JavaScript since an earlier capture request (it is inside native code)');
  const s = openSession();
  const requestedAt = Date.now();
  expectingPause = true;
  const paused = waitForPause(s, pauseTimeoutMs);
  // The probe's answer says when the main thread first ran our commands: a late answer means it
  // was inside native code until then (Debugger.enable's own work is not counted).
  let answeredAt = 0;
  send('Runtime.evaluate', { expression: '0', silent: true }).then(function () { answeredAt = Date.now(); }, function () {});
  if (!debuggerEnabled) {
    debuggerEnabled = true;
    scripts.clear();
    send('Debugger.enable', {}).catch(function (e) { debug('enable: ' + e.message); });
  }
  send('Debugger.pause', {}).catch(function (e) { debug('pause: ' + e.message); });
  let params;
  try {
    params = await paused;
  } catch (err) {
    expectingPause = false;
    // The queued commands run when the main thread returns to JavaScript, followed by the end of
    // the session, which cancels the pause they asked for.
    closeSession();
    throw err;
  }
  const capture = rawFrames(params.callFrames);
  capture.requestedAt = requestedAt;
  capture.pausedAt = Date.now();
  capture.nativeMs = (answeredAt || capture.pausedAt) - requestedAt;
  try {
    if (whilePaused) await within(whilePaused(capture), commandTimeoutMs, 'the report hook did not finish in time');
  } finally {
    expectingPause = false;
    try { await within(send('Debugger.resume', {}), commandTimeoutMs, 'resume timed out'); } catch (e) { debug('resume: ' + e.message); }
  }
  return capture;
}

let stackError = inspector ? '' : 'node:inspector is not usable in this process';

// The process is exiting (the main thread waits for the acknowledgement, briefly): drop the
// session now, so that exit neither prints "Waiting for the debugger to disconnect..." nor waits.
(async function watchExit() {
  while (Atomics.load(i32, I_EXITING) === 0) {
    const r = Atomics.waitAsync(i32, I_EXITING, 0);
    if (r.async) await r.value;
  }
  exiting = true;
  expectingPause = false;
  closeSession();
  Atomics.store(i32, I_EXIT_ACK, 1);
  Atomics.notify(i32, I_EXIT_ACK);
})();

async function handleBlockedDeadline(deadline) {
  try {
    await pauseAndRead(async function (capture) {
      // Re-check while paused: the main thread may have processed the deadline meanwhile.
      if (f64[F_DEADLINES_DONE] >= deadline) return;
      const expression = 'globalThis[Symbol.for(' + JSON.stringify(hookKey) + ')].onDeadlineBlocked(' +
        JSON.stringify(JSON.stringify(capture)) + ')';
      await send('Runtime.evaluate', { expression: expression, returnByValue: true, silent: true });
    });
  } catch (err) {
    // No stack: still tell the main thread, so the report is written while it is blocked... it is
    // blocked, so it cannot run; the report is made (without stack) when the loop returns.
    stackError = err.message;
    parentPort.postMessage({ type: 'capture-failed', reason: err.message });
  } finally {
    if (!blockKey) closeSession();
  }
}

// Block monitor state.
let blockKey = 0;
let blockSamples = [];
let blockDetectedAt = 0;
let nextSampleAt = 0;
let blockError = '';
let blockDropped = '';

async function sampleBlock(now) {
  const hb = f64[F_HEARTBEAT];
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
      // The heartbeat moved while we paused: the stack is not from this block.
      if (f64[F_HEARTBEAT] === hb) blockSamples.push({ at: capture.pausedAt, captureMs: capture.pausedAt - capture.requestedAt, pauseDelayMs: capture.nativeMs, frames: capture.frames, sourceMaps: capture.sourceMaps });
      else {
        blockDropped = 'the block ended while the watchdog was pausing the main thread (' + (capture.pausedAt - capture.requestedAt) + ' ms)';
        debug('sample dropped: ' + blockDropped);
      }
    } catch (err) {
      blockError = err.message;
      debug('sample failed: ' + err.message);
    }
    const interval = Math.max(1, Atomics.load(i32, I_SAMPLE_INTERVAL));
    // Back off on long blocks: at most maxSamplesPerBlock samples, spread over the block.
    const stretch = blockSamples.length > 20 ? 4 : blockSamples.length > 10 ? 2 : 1;
    nextSampleAt = Date.now() + interval * stretch;
  }
}

function finishBlock() {
  const key = blockKey;
  blockKey = 0;
  f64[F_BLOCK_KEY] = 0;
  parentPort.postMessage({
    type: 'block', key: key, detectedAt: blockDetectedAt, endedAt: Date.now(), threshold: Atomics.load(i32, I_BLOCK_THRESHOLD),
    samples: blockSamples, error: blockError || (blockSamples.length ? '' : blockDropped) || (inspector ? '' : stackError),
  });
  blockSamples = [];
}

async function loop() {
  // Runs until the main thread terminates this worker.
  for (;;) {
    const seq = Atomics.load(i32, I_WAKE);
    const now = Date.now();
    let wakeAt = Infinity;

    const deadline = f64[F_NEXT_DEADLINE];
    if (deadline > 0 && f64[F_DEADLINES_DONE] < deadline) {
      const due = deadline + Atomics.load(i32, I_DEADLINE_GRACE);
      if (now >= due) {
        if (inspector && outstanding === 0) {
          await handleBlockedDeadline(deadline);
        }
        // The hook advanced F_NEXT_DEADLINE / F_DEADLINES_DONE; if it could not run, check again soon.
        if (f64[F_DEADLINES_DONE] < deadline && f64[F_NEXT_DEADLINE] === deadline) wakeAt = Date.now() + 250;
      } else {
        wakeAt = Math.min(wakeAt, due);
      }
    }

    const threshold = Atomics.load(i32, I_BLOCK_THRESHOLD);
    const hb = f64[F_HEARTBEAT];
    if (threshold > 0 && hb > 0) {
      const t = Date.now();
      if (t - hb >= threshold) {
        await sampleBlock(t);
        wakeAt = Math.min(wakeAt, nextSampleAt, Date.now() + Math.max(1, Atomics.load(i32, I_SAMPLE_INTERVAL)));
      } else {
        if (blockKey) { finishBlock(); closeSession(); }
        wakeAt = Math.min(wakeAt, hb + threshold);
      }
    } else if (blockKey) {
      finishBlock();
      closeSession();
    }

    const timeout = wakeAt === Infinity ? Infinity : Math.max(1, wakeAt - Date.now());
    const result = Atomics.waitAsync(i32, I_WAKE, seq, timeout);
    if (result.async) await result.value;
  }
}

loop().catch(function (err) {
  try { parentPort.postMessage({ type: 'fatal', reason: String(err && err.stack || err) }); } catch (e) {}
  clearInterval(keepAlive);
});
`;
