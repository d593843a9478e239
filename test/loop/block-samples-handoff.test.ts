import t from 'tap';
import { monitorEventLoop, type BlockEvent } from '../../lib/index.js';
import { F_BLOCK_KEY } from '../../lib/watchdog/shared-state.js';
import { getWatchdog } from '../../lib/watchdog/watchdog.js';
import { sleep, waitFor } from '../helpers.js';

// When the loop comes back, the heartbeat moves and the watchdog worker, which samples the block,
// may finish it at any moment: clear the block key and post the samples. If the worker does so
// between the heartbeat's write and its check of the key, the samples are still on their way and
// the block must wait for them, not be reported as one the watchdog "did not see". The worker is
// made to finish in exactly that window here, every time.

function spinFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

function blockedInHandoffTest(): void {
  spinFor(500);
}

t.test('the worker finishing the block right as the heartbeat moves: the samples still join the block', async (t) => {
  const watchdog = getWatchdog();
  const events: BlockEvent[] = [];
  const monitor = monitorEventLoop({ thresholdMs: 50, onBlock: (e) => events.push(e) });
  t.teardown(() => monitor.stop());
  await monitor.ready();
  t.notOk(watchdog.stackUnavailable, 'stacks can be captured here');

  const heartbeat = watchdog.heartbeat;
  let finishedInWindow = 0;
  // What the worker's finishBlock does to the shared state, right after the heartbeat's write.
  watchdog.heartbeat = (now: number): void => {
    const sampling = watchdog.state.f64[F_BLOCK_KEY] !== 0;
    heartbeat.call(watchdog, now);
    if (sampling) {
      watchdog.state.f64[F_BLOCK_KEY] = 0;
      finishedInWindow++;
    }
  };
  t.teardown(() => {
    watchdog.heartbeat = heartbeat;
  });

  // On a loaded machine the worker may not get to sample one block: a few tries.
  let block: BlockEvent | undefined;
  for (let attempt = 0; attempt < 5 && finishedInWindow === 0; attempt++) {
    const seen = events.length;
    await sleep(50);
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        blockedInHandoffTest();
        resolve();
      }, 0),
    );
    await waitFor(() => events.slice(seen).some((e) => e.durationMs >= 450), 20_000);
    block = events.slice(seen).find((e) => e.durationMs >= 450);
  }
  t.ok(finishedInWindow > 0, 'the worker was sampling the block when the heartbeat moved');
  t.ok(block, 'the block is reported');
  // What the worker sent joined the block: its samples, or (its first pause outlasting the block
  // on a loaded machine) its own word on why there are none — never "did not see this block".
  t.notMatch(
    block?.stackError ?? '',
    /did not see this block/,
    `the worker's message joined the block (${block?.stackError})`,
  );
  if (block?.stack?.length)
    t.ok(
      block.stack.some((f) => f.functionName === 'blockedInHandoffTest'),
      'with the stack the worker sampled',
    );
  else t.match(block?.stackError, /while the watchdog was pausing/, "or the worker's reason for having no sample");
});
