/**
 * How worker threads reach the process's one watchdog: a `BroadcastChannel` (process-wide, no
 * handle to pass around), always `unref()`ed so that it keeps no thread alive.
 *
 * A worker thread's hangwatch registers its shared state (deadlines, heartbeat) and its hook key;
 * the main thread's hangwatch, while its watchdog worker runs, hands the thread to the worker,
 * which reaches the thread through its inspector session to the main thread (`NodeWorker`
 * domain). Results about the thread come back to it on the channel.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { REGISTRY_PROTOCOL } from './process-registry.js';
import type { WatchdogThreadMessage } from './worker-protocol.js';

/** The channel's name carries the registry protocol: copies of another protocol never meet. */
export const THREAD_CHANNEL = `hangwatch.watchdog.threads.protocol-${REGISTRY_PROTOCOL}`;

export type ThreadChannelMessage =
  /** Thread → main thread: watch me. */
  | { type: 'register'; threadId: number; buffer: SharedArrayBuffer; hookKey: string }
  /** Thread → main thread: forget me (last user gone, or the thread exits). */
  | { type: 'unregister'; threadId: number }
  /** Main thread → thread: watched; bump the watchdog's wake cell (in `wakeBuffer`) on changes. */
  | { type: 'registered'; threadId: number; wakeBuffer: SharedArrayBuffer }
  /** Main thread → thread: it cannot be watched. */
  | { type: 'refused'; threadId: number; reason: string }
  /** Main thread → thread: a watchdog message about the thread, passed on unchanged. */
  | { type: 'watchdog'; threadId: number; message: WatchdogThreadMessage };

export function openThreadChannel(onMessage: (msg: ThreadChannelMessage) => void): BroadcastChannel {
  const channel = new BroadcastChannel(THREAD_CHANNEL);
  channel.onmessage = (event: unknown) => {
    const data = (event as { data?: unknown }).data;
    if (data && typeof data === 'object' && typeof (data as { type?: unknown }).type === 'string')
      onMessage(data as ThreadChannelMessage);
  };
  channel.unref();
  return channel;
}
