/**
 * Dominator tree and retained sizes of a heap graph (Lengauer–Tarjan with path compression, on typed arrays).
 *
 * Which edges count follows Chrome DevTools (HeapSnapshot.ts `isEssentialEdge`): `weak` edges never retain,
 * and `shortcut` edges retain only when they leave the synthetic root (that is how V8 marks user roots).
 * Self edges are ignored. Nodes the root cannot reach through such edges (held only by weak references,
 * or by cycles of such nodes) are attached under the root, as DevTools and memlab do: first the nodes with
 * no retaining edge at all, then whatever is still unreached. Unlike DevTools, which attaches each node of
 * that second group to the root, a depth-first search runs from each, so that a weakly-held subgraph keeps
 * its inner dominators. DevTools' page-owned filter and WeakMap-table rule are not applied (docs/memory.md).
 */

export interface DominatorGraph {
  nodeCount: number;
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  edgeType: Uint8Array;
  nodeSelfSize: Float64Array;
  /** Edge type index of `weak` edges (-1 if the snapshot has none). */
  weakType: number;
  /** Edge type index of `shortcut` edges (-1 if none). */
  shortcutType: number;
  /** Ordinal of the synthetic root (0 in V8 snapshots). */
  root: number;
}

export interface DominatorResult {
  /** Ordinal of the immediate dominator of each node; the root is its own dominator. */
  dominator: Uint32Array;
  /** Self size of each node plus the self sizes of all nodes it dominates. */
  retainedSize: Float64Array;
}

export function computeDominators(g: DominatorGraph): DominatorResult {
  const { nodeCount: n, firstEdge, edgeTo, edgeType, weakType, shortcutType, root } = g;
  if (n === 0) return { dominator: new Uint32Array(0), retainedSize: new Float64Array(0) };

  // Predecessors over essential edges, in compressed sparse rows.
  const predFirst = new Uint32Array(n + 1);
  let pred = new Uint32Array(0);
  let fill = predFirst;
  for (let pass = 0; pass < 2; pass++) {
    for (let v = 0; v < n; v++) {
      const end = firstEdge[v + 1]!;
      for (let e = firstEdge[v]!; e < end; e++) {
        const t = edgeType[e];
        if (t === weakType || (t === shortcutType && v !== root)) continue;
        const w = edgeTo[e]!;
        if (w === v) continue;
        if (pass === 0) predFirst[w + 1]!++;
        else pred[fill[w]!++] = v;
      }
    }
    if (pass === 0) {
      for (let v = 0; v < n; v++) predFirst[v + 1]! += predFirst[v]!;
      pred = new Uint32Array(predFirst[n]!);
      fill = predFirst.slice(0, n);
    }
  }

  // Depth-first numbering, 1-based (0 = not visited). All per-vertex arrays below are indexed by number.
  const number = new Uint32Array(n);
  const vertex = new Uint32Array(n + 1); // number -> ordinal
  const parent = new Uint32Array(n + 1); // number -> parent number
  const fromRoot = new Uint8Array(n + 1); // number -> has a virtual edge from the root
  const stackNode = new Uint32Array(n + 1);
  const stackEdge = new Uint32Array(n + 1);
  let count = 0;

  const dfs = (start: number, parentNumber: number): void => {
    number[start] = ++count;
    vertex[count] = start;
    parent[count] = parentNumber;
    let sp = 0;
    stackNode[0] = start;
    stackEdge[0] = firstEdge[start]!;
    while (sp >= 0) {
      const v = stackNode[sp]!;
      const end = firstEdge[v + 1]!;
      let e = stackEdge[sp]!;
      let pushed = false;
      for (; e < end; e++) {
        const t = edgeType[e];
        if (t === weakType || (t === shortcutType && v !== root)) continue;
        const w = edgeTo[e]!;
        if (number[w] !== 0) continue;
        number[w] = ++count;
        vertex[count] = w;
        parent[count] = number[v]!;
        stackEdge[sp] = e + 1;
        sp++;
        stackNode[sp] = w;
        stackEdge[sp] = firstEdge[w]!;
        pushed = true;
        break;
      }
      if (!pushed) sp--;
    }
  };

  dfs(root, 0);
  if (count < n) {
    // Nodes with no retaining edge at all (only weak ones, or none) start their own subtrees under the root.
    for (let v = 0; v < n; v++) {
      if (number[v] === 0 && predFirst[v] === predFirst[v + 1]) {
        dfs(v, 1);
        fromRoot[number[v]!] = 1;
      }
    }
    // What is left is retained only by cycles that the root cannot reach.
    for (let v = 0; v < n; v++) {
      if (number[v] === 0) {
        dfs(v, 1);
        fromRoot[number[v]!] = 1;
      }
    }
  }

  // Lengauer–Tarjan, simple version (eval/link with path compression).
  const semi = new Uint32Array(n + 1);
  const label = new Uint32Array(n + 1);
  const ancestor = new Uint32Array(n + 1);
  const idom = new Uint32Array(n + 1);
  const bucketHead = new Uint32Array(n + 1);
  const bucketNext = stackEdge; // reused, the DFS is over
  const compressStack = stackNode; // reused
  for (let k = 1; k <= n; k++) {
    semi[k] = k;
    label[k] = k;
  }

  const evaluate = (v: number): number => {
    if (ancestor[v] === 0) return v;
    // compress the ancestor chain of v
    let sp = 0;
    let x = v;
    while (ancestor[ancestor[x]!] !== 0) {
      compressStack[sp++] = x;
      x = ancestor[x]!;
    }
    while (sp > 0) {
      x = compressStack[--sp]!;
      const a = ancestor[x]!;
      if (semi[label[a]!]! < semi[label[x]!]!) label[x] = label[a]!;
      ancestor[x] = ancestor[a]!;
    }
    return label[v]!;
  };

  for (let w = n; w >= 2; w--) {
    const ordinal = vertex[w]!;
    let s = semi[w]!;
    if (fromRoot[w]) s = 1;
    const end = predFirst[ordinal + 1]!;
    for (let p = predFirst[ordinal]!; p < end; p++) {
      const u = evaluate(number[pred[p]!]!);
      const su = semi[u]!;
      if (su < s) s = su;
    }
    semi[w] = s;
    bucketNext[w] = bucketHead[s]!;
    bucketHead[s] = w;
    const pw = parent[w]!;
    ancestor[w] = pw;
    for (let v = bucketHead[pw]!; v !== 0; v = bucketNext[v]!) {
      const u = evaluate(v);
      idom[v] = semi[u]! < semi[v]! ? u : pw;
    }
    bucketHead[pw] = 0;
  }
  idom[1] = 1;
  for (let w = 2; w <= n; w++) {
    if (idom[w] !== semi[w]) idom[w] = idom[idom[w]!]!;
  }

  const dominator = new Uint32Array(n);
  const retainedSize = Float64Array.from(g.nodeSelfSize.subarray(0, n));
  for (let w = 1; w <= n; w++) dominator[vertex[w]!] = vertex[idom[w]!]!;
  for (let w = n; w >= 2; w--) {
    const v = vertex[w]!;
    retainedSize[dominator[v]!]! += retainedSize[v]!;
  }
  return { dominator, retainedSize };
}
