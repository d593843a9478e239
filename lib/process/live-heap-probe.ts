/**
 * The live-heap probe of `hangwatch doctor`: every `everyMs`, one full garbage collection
 * (V8's `gc()`, taken from a fresh context once `--expose-gc` is set: the inspector's
 * `HeapProfiler.collectGarbage` runs later, from a task, out of sight) and the heap used right after
 * it — the memory the program keeps alive, without its garbage. A short run under load may have no
 * major collection of its own (young garbage dies in scavenges), and without one nothing tells a
 * slow leak from garbage promoted to the old generation; a few probes do. Each probe is one of
 * hangwatch's own pauses (recorded, shown apart, never counted as the program's blocking): on a
 * 30 MB heap, tens of ms.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { measureSelfPause } from '../capture/self-pause.js';

export interface LiveHeapProbe {
  /** The latest reading not yet taken, bytes (undefined when none since the last call). */
  take(): number | undefined;
  /** Probe now (the last reading of a run, taken when it ends). */
  probeNow(): void;
  stop(): void;
}

/** V8's synchronous full collection. The flag is read when a context is created, so only the new one has `gc`. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  if (!gc) throw new Error('V8 did not expose gc()');
  return gc;
}

/** Start probing; throws when V8 gives no way to collect garbage on request. */
export function startLiveHeapProbe(everyMs: number, onError: (error: Error) => void): LiveHeapProbe {
  let gc: (() => void) | undefined = fullGc();
  let latest: number | undefined;
  const probe = (): void => {
    if (!gc) return;
    try {
      const collect = gc;
      latest = measureSelfPause('live-heap-probe', () => {
        collect();
        return getHeapStatistics().used_heap_size;
      });
    } catch (error) {
      stop();
      onError(error as Error);
    }
  };
  const timer = setInterval(probe, everyMs);
  timer.unref();
  function stop(): void {
    clearInterval(timer);
    gc = undefined;
  }
  return {
    probeNow: probe,
    take() {
      const value = latest;
      latest = undefined;
      return value;
    },
    stop,
  };
}
