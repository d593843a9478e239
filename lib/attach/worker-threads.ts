/**
 * Worker threads of the attached process, through the main thread's `NodeWorker` domain: each
 * becomes a `WorkerChannel` that speaks the protocol to that worker's own inspector. Workers are
 * not paused on start (`waitForDebuggerOnStart: false`) and the sessions are detached afterwards.
 */
import { WorkerChannel, type CdpChannel, type CdpParams } from './cdp-channel.js';

/** Workers that report themselves after `NodeWorker.enable` has answered get this long. */
const ATTACH_GRACE_MS = 100;

export async function withWorkerChannels<T>(
  main: CdpChannel,
  work: (workers: WorkerChannel[]) => Promise<T>,
): Promise<T> {
  const attached: { sessionId: string; label: string }[] = [];
  const off = main.on('NodeWorker.attachedToWorker', (p: CdpParams) => {
    const info = p.workerInfo ?? {};
    // Titles read `[worker 1] name`; the name alone is kept.
    const name = String(info.title ?? '').replace(/^\[worker \d+\]\s*/, '');
    attached.push({
      sessionId: String(p.sessionId),
      label: `worker ${String(info.workerId ?? '?')}${name ? ` (${name})` : ''}`,
    });
  });
  const channels: WorkerChannel[] = [];
  try {
    await main.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await new Promise((r) => setTimeout(r, ATTACH_GRACE_MS));
    off();
    for (const a of attached) channels.push(new WorkerChannel(main, a.sessionId, a.label));
    return await work(channels);
  } finally {
    off();
    for (const channel of channels) {
      await main.sendQuietly('NodeWorker.detach', { sessionId: channel.sessionId }, 2000);
      channel.dispose();
    }
    await main.sendQuietly('NodeWorker.disable', {}, 2000);
  }
}
