/**
 * Shortest retainer paths: a breadth-first search from the synthetic root over the edges that retain
 * (everything but `weak` edges, and `shortcut` edges only from the root, as for dominators). Each reached
 * node records the edge it was first reached by, so the path from the GC roots to any node is a walk up
 * that tree. (DevTools searches from the global object first; in Node that turns the path to a module-level
 * variable into a 20-step walk through the module loader, so the plain shortest path is used.)
 */

/** Marks a node the root cannot reach through retaining edges. */
export const NO_EDGE = 0xffffffff;

export interface PathGraph {
  nodeCount: number;
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  edgeType: Uint8Array;
  weakType: number;
  shortcutType: number;
  root: number;
}

export interface RetainerTree {
  /** Edge by which each node was first reached, or `NO_EDGE`. */
  parentEdge: Uint32Array;
  /** Node that edge leaves from (meaningless where `parentEdge` is `NO_EDGE`). */
  parentNode: Uint32Array;
  /** Reached nodes in breadth-first order (root first); `reached` of them are valid. */
  order: Uint32Array;
  reached: number;
}

export function computeRetainerTree(g: PathGraph): RetainerTree {
  const { nodeCount: n, firstEdge, edgeTo, edgeType, weakType, shortcutType, root } = g;
  const parentEdge = new Uint32Array(n).fill(NO_EDGE);
  const parentNode = new Uint32Array(n);
  const order = new Uint32Array(n);
  if (n === 0) return { parentEdge, parentNode, order, reached: 0 };
  const visited = new Uint8Array(n);
  let head = 0;
  let tail = 0;
  order[tail++] = root;
  visited[root] = 1;
  while (head < tail) {
    const v = order[head++]!;
    const end = firstEdge[v + 1]!;
    for (let e = firstEdge[v]!; e < end; e++) {
      const w = edgeTo[e]!;
      if (visited[w]) continue;
      const t = edgeType[e];
      if (t === weakType || (t === shortcutType && v !== root)) continue;
      visited[w] = 1;
      parentEdge[w] = e;
      parentNode[w] = v;
      order[tail++] = w;
    }
  }
  return { parentEdge, parentNode, order, reached: tail };
}
