/**
 * Cross-check against memlab (dev dependency) on a real Node snapshot: same graph, the same retained
 * size for every node, and the same dominator for every node except where memlab departs from Chrome
 * DevTools' definition of the dominator tree (the reference). There the test asserts the DevTools answer.
 *
 * memlab's departure: before building the tree it flags "page-owned" nodes and ignores every edge from an
 * unflagged node into a flagged one, as DevTools does (HeapSnapshot.ts `computeIsEssentialEdge`) — but it
 * seeds the flags from the opposite root edges. DevTools' `markPageOwnedNodes` starts from the root's
 * `shortcut` edges (user roots: `global` in Node) and `(Document DOM trees)`, and skips every other root
 * edge; memlab's `flagReachableNodesFromWindow` (TraceFinder.ts) skips exactly those and starts from all the
 * others, `(GC roots)` first. So memlab flags everything the root reaches, and drops each edge that comes
 * from a node the root cannot reach (one DevTools attaches under the root) into a reachable one. Node 22 and
 * 24 snapshots have such edges: builtin code objects of `Intl.v8BreakIterator`'s getters that nothing retains,
 * each naming an internalized string ("get next", "get first", …) that `(Internalized strings)` also
 * holds. memlab reports `(Internalized strings)` as the dominator of those strings; by DevTools' definition
 * the string has two retaining paths that share only the root — root → (GC roots) → … → (Internalized
 * strings) → string, and root ⇢ code → string through the code object's attachment under the root — so its
 * dominator is the root, which is what hangwatch reports. Retained sizes differ accordingly: memlab counts
 * those strings (24–32 bytes each on Node 22, empty on Node 24) in `(Internalized strings)` and its dominators too.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { loadHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import type { HeapEdge, HeapSnapshot } from '../../lib/heap/heap-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-parity-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** DevTools' essential edges, as far as these snapshots need: no weak edges, shortcuts only from the root, no self edges. */
const retains = (s: HeapSnapshot, e: HeapEdge): boolean =>
  e.type !== 'weak' && (e.type !== 'shortcut' || e.from === s.root) && e.from !== e.to;

function reachableFromRoot(s: HeapSnapshot): Uint8Array {
  const seen = new Uint8Array(s.nodeCount);
  const stack = [s.root];
  seen[s.root] = 1;
  while (stack.length > 0) {
    for (const e of s.edges(stack.pop()!)) {
      if (!seen[e.to] && retains(s, e)) {
        seen[e.to] = 1;
        stack.push(e.to);
      }
    }
  }
  return seen;
}

t.test(
  'dominators and retained sizes equal memlab’s on every node, except where memlab departs from DevTools',
  async (t) => {
    const file = writeHeapSnapshot(join(dir, 'parity.heapsnapshot'));
    const { utils, config, TraceFinder } = await import('@memlab/core');
    config.muteConsole = true;
    const theirs = await utils.getSnapshotFromFile(file, { buildNodeIdIndex: true });
    new TraceFinder().calculateAllNodesRetainedSizes(theirs);
    const ours = await loadHeapSnapshot(file);
    t.equal(ours.nodeCount, theirs.nodes.length);
    t.equal(ours.edgeCount, theirs.edges.length);
    const reachable = reachableFromRoot(ours);
    let twoSided = 0;
    const departures: number[] = [];
    const notRoot: string[] = [];
    const unexplained: string[] = [];
    const theirDominator = (n: number): number => theirs.nodes.get(n)!.dominatorNode!.nodeIndex;
    const describe = (n: number, dominator: number) =>
      `@${ours.nodeId(n)} ${ours.nodeType(n)} ${ours.nodeName(n).slice(0, 40)}: ours #${dominator}, memlab #${theirDominator(n)}`;
    for (let n = 0; n < ours.nodeCount; n++) {
      if (n === ours.root) continue;
      const dominator = ours.dominatorOf(n)!.ordinal;
      const same = theirDominator(n) === dominator;
      // A reachable node retained both from a node the root cannot reach (attached under the root) and from one it
      // can: by DevTools' definition its dominator is the root, the two retaining paths sharing nothing else.
      // This is where memlab drops the first edge.
      const retainers = ours.retainers(n).filter((e) => retains(ours, e));
      if (reachable[n] && retainers.some((e) => !reachable[e.from]) && retainers.some((e) => reachable[e.from])) {
        twoSided++;
        if (dominator !== ours.root) notRoot.push(describe(n, dominator));
        if (!same) departures.push(n);
      } else if (!same) {
        unexplained.push(describe(n, dominator));
      }
    }
    t.same(notRoot, [], 'retained from both sides of the root: dominated by the root (DevTools)');
    t.same(unexplained, [], 'every other dominator equals memlab’s');

    // Retained sizes: equal, except that memlab also counts each departing node in every node of the dominator
    // chain it gave it (below the root).
    const extra = new Float64Array(ours.nodeCount);
    for (const n of departures) {
      for (let x = theirDominator(n); x !== ours.root; x = theirDominator(x)) extra[x]! += ours.retainedSize(n);
    }
    const retainedDiff: string[] = [];
    for (let n = 0; n < ours.nodeCount; n++) {
      const expected = ours.retainedSize(n) + extra[n]!;
      const got = theirs.nodes.get(n)!.retainedSize;
      if (got !== expected)
        retainedDiff.push(
          `@${ours.nodeId(n)} ${ours.nodeName(n).slice(0, 40)}: ours ${ours.retainedSize(n)}, memlab ${got}`,
        );
    }
    t.same(retainedDiff.slice(0, 20), [], 'retained sizes equal memlab’s on every node, but for those departures');
    t.comment(
      `Node ${process.versions.node}: ${twoSided} nodes retained from both sides, memlab departs from DevTools on ${departures.length}`,
    );
  },
);
