/**
 * Cross-check against memlab (dev dependency) on a real Node snapshot: same graph, and the same
 * dominator and retained size for every node.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { loadHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-parity-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('dominators and retained sizes equal memlab’s on every node', async (t) => {
  const file = writeHeapSnapshot(join(dir, 'parity.heapsnapshot'));
  const { utils, config, TraceFinder } = await import('@memlab/core');
  config.muteConsole = true;
  const theirs = await utils.getSnapshotFromFile(file, { buildNodeIdIndex: true });
  new TraceFinder().calculateAllNodesRetainedSizes(theirs);
  const ours = await loadHeapSnapshot(file);
  t.equal(ours.nodeCount, theirs.nodes.length);
  t.equal(ours.edgeCount, theirs.edges.length);
  let retainedDiff = 0;
  let dominatorDiff = 0;
  for (let n = 0; n < ours.nodeCount; n++) {
    const node = theirs.nodes.get(n)!;
    if (node.retainedSize !== ours.retainedSize(n)) retainedDiff++;
    if (n !== 0 && node.dominatorNode?.nodeIndex !== ours.dominatorOf(n)!.ordinal) dominatorDiff++;
  }
  t.equal(retainedDiff, 0, 'retained sizes differ on no node');
  t.equal(dominatorDiff, 0, 'dominators differ on no node');
});
