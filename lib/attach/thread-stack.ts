/**
 * The JavaScript stack of one thread of another process, read over its inspector: where it runs
 * now, or that its event loop is waiting (and on what).
 *
 * `Debugger.enable` and `Debugger.pause` are sent back to back after a `Runtime.evaluate('0')`
 * probe. A thread running JavaScript handles them through a V8 interrupt and pauses at once; the
 * probe's answer time says how long it took to come back to JavaScript at all — late means it was
 * inside a native call V8 cannot interrupt (a big JSON.parse, a sync fs call, execSync). Atomics.wait
 * is not one: V8 handles interrupts while it waits, so it pauses like JavaScript.
 *
 * An idle thread has no JavaScript to pause: the pause request waits for the next JavaScript to
 * run. hangwatch then evaluates `process.getActiveResourcesInfo()`; if the pause lands inside that
 * evaluation (no frame of the program), the loop was waiting, and the answer lists on what.
 *
 * A thread inside a regular expression answers the probe (V8 handles interrupts while matching)
 * but cannot pause before the match ends, which for a catastrophic pattern may be never. Then the
 * stack is read by evaluating `new Error().stack` inside that interrupt, which sees the frames
 * that called the regular expression.
 */
import { isNodeInternal, parseV8Stack, type StackFrame } from '../capture/stack-frame.js';
import { withSourceLines } from '../capture/source-line.js';
import { mapFrame } from '../capture/source-map.js';
import { resolveFrames, type RawFrame } from '../watchdog/watchdog.js';
import type { CdpChannel, CdpParams } from './cdp-channel.js';
import { AttachTimeoutError } from './errors.js';

export type ThreadState = 'running' | 'idle';

export interface ThreadStack {
  /** `main thread` or `worker <id> (<title>)`. */
  thread: string;
  state: ThreadState;
  /** Most recent call first (empty when idle). */
  frames: StackFrame[];
  /** Time the thread took to answer the first command: above ~100 ms it was inside a native call. */
  answerDelayMs: number;
  /** How the stack was read: a debugger pause, or an `Error().stack` evaluated in an interrupt (inside a regular expression). */
  method: 'pause' | 'interrupt';
  /** What an idle loop (or one between callbacks, in Node's own code only) waits on: `process.getActiveResourcesInfo()` counted by type. */
  activeResources?: Record<string, number>;
}

export interface ThreadStackOptions {
  /** How long to wait for the thread to run JavaScript again (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** After the probe answered, how long a pause may take before the stack is read through an interrupt instead. */
const PAUSE_GRACE_MS = 500;

const RESOURCES_EXPRESSION =
  "JSON.stringify(typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo() : [])";
const INTERRUPT_STACK_EXPRESSION =
  '(() => { const limit = Error.stackTraceLimit; Error.stackTraceLimit = 200; const stack = new Error().stack; Error.stackTraceLimit = limit; return stack; })()';

export async function readThreadStack(channel: CdpChannel, options: ThreadStackOptions = {}): Promise<ThreadStack> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const scripts = new Map<string, { url: string; sourceMapURL: string }>();
  const offScripts = channel.on('Debugger.scriptParsed', (p: CdpParams) => {
    scripts.set(String(p.scriptId), { url: String(p.url ?? ''), sourceMapURL: String(p.sourceMapURL ?? '') });
  });
  const started = performance.now();
  let answeredAt = 0;
  const probe = channel
    .send('Runtime.evaluate', { expression: '0', silent: true }, timeoutMs)
    .then(() => (answeredAt = performance.now()));
  const paused = channel.next('Debugger.paused', timeoutMs);
  const enabled = channel.send('Debugger.enable', {}, timeoutMs);
  const pauseRequested = channel.send('Debugger.pause', {}, timeoutMs);
  // Awaited below only on some paths: their failures must never go unhandled.
  enabled.catch(() => {});
  pauseRequested.catch(() => {});
  let resources: Promise<CdpParams> | undefined;
  let pausedParams: CdpParams | undefined;
  try {
    try {
      await probe;
    } catch (err) {
      if (err instanceof AttachTimeoutError)
        throw new AttachTimeoutError(
          channel.pid,
          `did not run JavaScript on its ${channel.label} (it is inside a native call)`,
          timeoutMs,
        );
      throw err;
    }
    const answerDelayMs = answeredAt - started;
    const firstPause = await Promise.race([
      paused,
      Promise.all([enabled, pauseRequested]).then(() => 'requested' as const),
    ]);
    if (firstPause === 'requested') {
      // Nothing paused yet: either the loop is idle (the pause waits for JavaScript, and this
      // evaluation is the next to run), or the thread is in JavaScript that cannot pause now.
      resources = evaluateActiveResources(channel, timeoutMs);
      resources.catch(() => {});
      pausedParams = await Promise.race([paused, sleep(PAUSE_GRACE_MS).then(() => undefined)]);
      if (!pausedParams) {
        return await readThroughInterrupt(channel, answerDelayMs, timeoutMs);
      }
    } else {
      pausedParams = firstPause;
    }
    const callFrames = (pausedParams?.callFrames ?? []) as CdpParams[];
    const programFrames = callFrames.filter((f) => Boolean(f.url || scripts.get(String(f.location?.scriptId))?.url));
    if (programFrames.length === 0) {
      // The pause landed in hangwatch's own evaluation: nothing of the program was running.
      await channel.sendQuietly('Debugger.resume', {}, timeoutMs);
      const activeResources = countTypes(
        (await (resources ?? evaluateActiveResources(channel, timeoutMs)))?.result?.value,
      );
      return { thread: channel.label, state: 'idle', frames: [], answerDelayMs, method: 'pause', activeResources };
    }
    const raw: RawFrame[] = callFrames.map((f) => {
      const script = scripts.get(String(f.location?.scriptId));
      return {
        functionName: String(f.functionName ?? ''),
        url: String(f.url || script?.url || ''),
        scriptId: String(f.location?.scriptId ?? ''),
        lineNumber: Number(f.location?.lineNumber ?? 0),
        columnNumber: Number(f.location?.columnNumber ?? 0),
      };
    });
    const sourceMaps: Record<string, string> = {};
    for (const f of raw) {
      const map = scripts.get(f.scriptId)?.sourceMapURL;
      if (map) sourceMaps[f.scriptId] = map;
    }
    // Frames without a URL are hangwatch's own evaluation (when the pause landed while the thread
    // ran it on top of the program's frames): not the program's.
    const frames = resolveFrames(
      raw.filter((f) => f.url),
      sourceMaps,
    );
    const stack: ThreadStack = { thread: channel.label, state: 'running', frames, answerDelayMs, method: 'pause' };
    if (frames.every(isNodeInternal)) {
      // Only Node's own code, entered from the loop (a timer or I/O callback starting): the
      // program is between callbacks, so what the loop holds says more.
      await channel.sendQuietly('Debugger.resume', {}, timeoutMs);
      stack.activeResources = countTypes(
        (await (resources ?? evaluateActiveResources(channel, timeoutMs)))?.result?.value,
      );
    }
    return stack;
  } finally {
    offScripts();
    // Never leave the thread paused, even when this capture failed.
    await channel.sendQuietly('Debugger.resume', {}, 2000);
    await channel.sendQuietly('Debugger.disable', {}, 2000);
  }
}

/** Read the stack by evaluating `new Error().stack` in the interrupt the thread is handling now. */
async function readThroughInterrupt(
  channel: CdpChannel,
  answerDelayMs: number,
  timeoutMs: number,
): Promise<ThreadStack> {
  // Withdraw the pause request first, so that it cannot land inside this evaluation.
  await channel.sendQuietly('Debugger.disable', {}, timeoutMs);
  const answer = await channel.send(
    'Runtime.evaluate',
    { expression: INTERRUPT_STACK_EXPRESSION, returnByValue: true, silent: true },
    timeoutMs,
  );
  const stack = String(answer?.result?.value ?? '');
  // The first frames are the evaluation itself (`<anonymous>`), not the program.
  const frames = parseV8Stack(stack);
  let first = 0;
  while (
    first < frames.length &&
    (frames[first] as StackFrame).file === '<anonymous>' &&
    (frames[first] as StackFrame).line > 0
  )
    first++;
  const program = frames.slice(first).map((f) => mapFrame(f));
  return {
    thread: channel.label,
    state: 'running',
    frames: withSourceLines(program),
    answerDelayMs,
    method: 'interrupt',
  };
}

function evaluateActiveResources(channel: CdpChannel, timeoutMs: number): Promise<CdpParams> {
  return channel.send(
    'Runtime.evaluate',
    { expression: RESOURCES_EXPRESSION, returnByValue: true, silent: true },
    timeoutMs,
  );
}

function countTypes(json: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  let types: unknown;
  try {
    types = typeof json === 'string' ? JSON.parse(json) : [];
  } catch {
    types = [];
  }
  if (Array.isArray(types)) for (const t of types) counts[String(t)] = (counts[String(t)] ?? 0) + 1;
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
