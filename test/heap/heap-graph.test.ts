import t from 'tap';
import { parseHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import { diffHeapSnapshots } from '../../lib/heap/heap-diff.js';
import { computeDominators } from '../../lib/heap/dominators.js';
import { InvalidOptionError } from '../../lib/errors.js';
import { buildSnapshot, root, type TinyEdge, type TinyNode } from './helpers/build-snapshot.js';

// The tiny graph (ordinal: name self-size):
//   0 root ─[1]→ 1 A(100)      0 root ─shortcut global→ 2 G(10) ─a→ A
//   A ─b→ 3 B(50) ─d→ 5 D(20) ─e→ 6 E(5)      A ─c→ 4 C(30) ─d→ D      C ─self→ C
//   E ─weak→ 7 F(40)            B ─shortcut→ 8 H(7)        9 I(11) ⇄ 10 J(13) (a cycle nothing reaches)
// D and E are both class "Leaf".
const tiny: TinyNode[] = [
  root([
    { type: 'element', name: 1, to: 1 },
    { type: 'shortcut', name: 'global', to: 2 },
  ]),
  {
    type: 'object',
    name: 'A',
    id: 3,
    selfSize: 100,
    edges: [
      { type: 'property', name: 'b', to: 3 },
      { type: 'property', name: 'c', to: 4 },
    ],
  },
  { type: 'object', name: 'G', id: 5, selfSize: 10, edges: [{ type: 'property', name: 'a', to: 1 }] },
  {
    type: 'object',
    name: 'B',
    id: 7,
    selfSize: 50,
    edges: [
      { type: 'property', name: 'd', to: 5 },
      { type: 'shortcut', name: 's', to: 8 },
    ],
  },
  {
    type: 'object',
    name: 'C',
    id: 9,
    selfSize: 30,
    edges: [
      { type: 'property', name: 'd', to: 5 },
      { type: 'property', name: 'self', to: 4 },
    ],
  },
  { type: 'object', name: 'Leaf', id: 11, selfSize: 20, edges: [{ type: 'property', name: 'e', to: 6 }] },
  { type: 'object', name: 'Leaf', id: 13, selfSize: 5, edges: [{ type: 'weak', name: 'w', to: 7 }] },
  { type: 'object', name: 'F', id: 15, selfSize: 40 },
  { type: 'object', name: 'H', id: 17, selfSize: 7 },
  { type: 'closure', name: 'I', id: 19, selfSize: 11, edges: [{ type: 'context', name: 'j', to: 10 }] },
  { type: 'string', name: 'J', id: 21, selfSize: 13, edges: [{ type: 'internal', name: 'i', to: 9 }] },
];

t.test('retained sizes and dominators match hand-computed values', async (t) => {
  const s = parseHeapSnapshot(buildSnapshot(tiny));
  const retained = [286, 205, 10, 50, 30, 25, 5, 40, 7, 24, 13];
  t.same(
    Array.from({ length: s.nodeCount }, (_, n) => s.retainedSize(n)),
    retained,
  );
  const dom = Array.from({ length: s.nodeCount }, (_, n) => s.dominatorOf(n)?.name ?? null);
  t.same(
    dom,
    [null, '', '', 'A', 'A', 'A', 'Leaf', '', '', '', 'I'],
    'D and E under A (two retainers), F/H/I under the root, J under I',
  );
  t.equal(s.dominatorOf(6)!.ordinal, 5);
});

t.test('shortest retainer paths skip weak edges and non-root shortcuts', async (t) => {
  const s = parseHeapSnapshot(buildSnapshot(tiny));
  const path = s.retainerPath(6)!;
  t.same(
    path.map((p) => p.node.name),
    ['A', 'B', 'Leaf', 'Leaf'],
  );
  t.same(
    path.map((p) => p.edge && `${p.edge.type}:${p.edge.name}`),
    [null, 'property:b', 'property:d', 'property:e'],
  );
  t.equal(s.retainerPath(7), null, 'F is only weakly held');
  t.equal(s.retainerPath(8), null, 'H only through a shortcut from a non-root node');
  t.equal(s.retainerPath(9), null, 'the unreachable cycle');
  t.same(s.retainerPath(0), []);
});

t.test('summary groups by class without counting nested instances twice', async (t) => {
  const s = parseHeapSnapshot(buildSnapshot(tiny));
  const rows = new Map(s.summary().map((r) => [r.className, r]));
  t.same(rows.get('Leaf'), { className: 'Leaf', count: 2, selfSize: 25, retainedSize: 25 });
  t.same(rows.get('A'), { className: 'A', count: 1, selfSize: 100, retainedSize: 205 });
  t.same(rows.get('(closure)'), { className: '(closure)', count: 1, selfSize: 11, retainedSize: 24 });
  t.same(rows.get('(string)'), { className: '(string)', count: 1, selfSize: 13, retainedSize: 13 });
  t.equal(s.summary()[0]!.className, '(synthetic)', 'sorted by retained size');
});

t.test('node accessors, edges, retainers, lookups', async (t) => {
  const s = parseHeapSnapshot(buildSnapshot(tiny));
  t.same(s.node(5), {
    ordinal: 5,
    id: 11,
    type: 'object',
    name: 'Leaf',
    className: 'Leaf',
    selfSize: 20,
    edgeCount: 1,
  });
  t.same(
    s.nodesBy('Leaf').map((n) => n.id),
    [11, 13],
  );
  t.same(s.nodesBy('Nope'), []);
  t.equal(s.nodeById(9)!.name, 'C');
  t.equal(s.nodeById(10), undefined);
  t.same(
    s.edges(4).map((e) => [e.type, e.name, e.to]),
    [
      ['property', 'd', 5],
      ['property', 'self', 4],
    ],
  );
  t.same(
    s
      .retainers(5)
      .map((e) => [e.from, e.name])
      .sort(),
    [
      [3, 'd'],
      [4, 'd'],
    ],
  );
  t.same(
    s
      .retainers({ ordinal: 1 })
      .map((e) => e.from)
      .sort(),
    [0, 2],
  );
  t.throws(() => s.node(11), InvalidOptionError);
  t.throws(() => s.retainedSize(-1), InvalidOptionError);
  t.throws(() => s.nodesBy(3 as unknown as string), InvalidOptionError);
});

// ---- randomised check against a naive definition of dominance ----

function randomGraph(seed: number): TinyNode[] {
  let x = seed;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const n = 5 + rnd(25);
  const nodes: TinyNode[] = [];
  const edges: TinyEdge[][] = Array.from({ length: n }, () => []);
  for (let v = 1; v < n; v++) edges[rnd(v)]!.push({ type: 'property', name: `t${v}`, to: v }); // spanning tree from root
  for (let k = rnd(3 * n); k > 0; k--) {
    const from = rnd(n);
    const kind = rnd(10);
    edges[from]!.push({ type: kind < 2 ? 'weak' : kind < 3 ? 'shortcut' : 'element', name: k, to: rnd(n) });
  }
  for (let v = 0; v < n; v++)
    nodes.push({
      type: v === 0 ? 'synthetic' : 'object',
      name: `N${v}`,
      id: 2 * v + 1,
      selfSize: 1 + rnd(100),
      edges: edges[v],
    });
  return nodes;
}

function reachable(nodes: TinyNode[], removed: number): Set<number> {
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length) {
    const v = queue.shift()!;
    for (const e of nodes[v]!.edges ?? []) {
      if (e.type === 'weak' || (e.type === 'shortcut' && v !== 0) || e.to === removed || seen.has(e.to)) continue;
      seen.add(e.to);
      queue.push(e.to);
    }
  }
  return seen;
}

t.test('dominators agree with the definition on 300 random graphs', async (t) => {
  let checked = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const nodes = randomGraph(seed);
    const s = parseHeapSnapshot(buildSnapshot(nodes));
    const all = reachable(nodes, -1);
    // strictDom[v] = nodes whose removal cuts v off from the root
    const strictDom = new Map<number, Set<number>>();
    for (const v of all) strictDom.set(v, new Set([0]));
    for (let d = 1; d < nodes.length; d++) {
      const without = reachable(nodes, d);
      for (const v of all) if (v !== d && !without.has(v)) strictDom.get(v)!.add(d);
    }
    for (const v of all) {
      if (v === 0) continue;
      const idom = s.dominatorOf(v)!.ordinal;
      const doms = strictDom.get(v)!;
      if (!doms.has(idom)) t.fail(`seed ${seed}: idom(${v}) = ${idom} does not dominate it`);
      for (const d of doms)
        if (d !== idom && !strictDom.get(idom)!.has(d))
          t.fail(`seed ${seed}: ${d} dominates ${v} but not idom ${idom}`);
      let expected = 0;
      for (const u of all) if (u === v || strictDom.get(u)!.has(v)) expected += nodes[u]!.selfSize;
      if (s.retainedSize(v) !== expected)
        t.fail(`seed ${seed}: retained(${v}) = ${s.retainedSize(v)}, expected ${expected}`);
      checked++;
    }
  }
  t.ok(checked > 2000, `${checked} nodes checked`);
});

t.test('computeDominators on an empty graph', async (t) => {
  const r = computeDominators({
    nodeCount: 0,
    firstEdge: new Uint32Array(1),
    edgeTo: new Uint32Array(0),
    edgeType: new Uint8Array(0),
    nodeSelfSize: new Float64Array(0),
    weakType: 6,
    shortcutType: 5,
    root: 0,
  });
  t.equal(r.dominator.length, 0);
});

t.test('diff counts new and deleted objects per class by node id', async (t) => {
  const obj = (name: string, id: number, selfSize: number): TinyNode => ({ type: 'object', name, id, selfSize });
  const edgesTo = (n: number): TinyEdge[] =>
    Array.from({ length: n - 1 }, (_, i) => ({ type: 'element' as const, name: i, to: i + 1 }));
  const beforeNodes = [
    obj('Kept', 3, 10),
    obj('Gone', 5, 20),
    obj('Gone', 7, 20),
    obj('Kept', 9, 10),
    obj('Both', 11, 8),
  ];
  const afterNodes = [
    obj('Kept', 3, 10),
    obj('Kept', 9, 10),
    obj('New', 13, 30),
    obj('New', 15, 30),
    obj('New', 17, 30),
    obj('Both', 19, 8),
    { type: 'closure', name: 'fn', id: 21, selfSize: 32 },
  ];
  const before = parseHeapSnapshot(buildSnapshot([root(edgesTo(beforeNodes.length + 1)), ...beforeNodes]));
  const after = parseHeapSnapshot(buildSnapshot([root(edgesTo(afterNodes.length + 1)), ...afterNodes]));
  const diff = diffHeapSnapshots(before, after);
  const rows = new Map(diff.classes.map((r) => [r.className, r]));
  t.same(rows.get('New'), {
    className: 'New',
    newCount: 3,
    deletedCount: 0,
    countDelta: 3,
    allocatedSize: 90,
    freedSize: 0,
    sizeDelta: 90,
  });
  t.same(rows.get('Gone'), {
    className: 'Gone',
    newCount: 0,
    deletedCount: 2,
    countDelta: -2,
    allocatedSize: 0,
    freedSize: 40,
    sizeDelta: -40,
  });
  t.same(rows.get('Both'), {
    className: 'Both',
    newCount: 1,
    deletedCount: 1,
    countDelta: 0,
    allocatedSize: 8,
    freedSize: 8,
    sizeDelta: 0,
  });
  t.same(rows.get('(closure)')!.newCount, 1);
  t.notOk(rows.has('Kept'), 'unchanged classes are not listed');
  t.same(diff.totals, { newCount: 5, deletedCount: 3, allocatedSize: 130, freedSize: 48, sizeDelta: 82 });
  t.equal(diff.commonCount, 3, 'root and the two Kept objects');
  t.equal(diff.classes[0]!.className, 'New', 'largest growth first');
  t.throws(() => diffHeapSnapshots({} as never, after), InvalidOptionError);
});

t.test('diff with retainedSizes: what the new objects keep alive, nested instances counted once', async (t) => {
  // before: root → Cache(1) → Record(id 5) → payload string (1000)
  // after:  the same, plus two new Records each holding a new 1000-byte string, and a new linked list
  //         Node → Node → Node (each 10) whose head is held by the old Cache.
  const before = parseHeapSnapshot(
    buildSnapshot([
      root([{ type: 'element', name: 1, to: 1 }]),
      { type: 'object', name: 'Cache', id: 3, selfSize: 1, edges: [{ type: 'property', name: 'r0', to: 2 }] },
      { type: 'object', name: 'Record', id: 5, selfSize: 16, edges: [{ type: 'property', name: 'payload', to: 3 }] },
      { type: 'string', name: 'p0', id: 7, selfSize: 1000 },
    ]),
  );
  const after = parseHeapSnapshot(
    buildSnapshot([
      root([{ type: 'element', name: 1, to: 1 }]),
      {
        type: 'object',
        name: 'Cache',
        id: 3,
        selfSize: 1,
        edges: [
          { type: 'property', name: 'r0', to: 2 },
          { type: 'property', name: 'r1', to: 4 },
          { type: 'property', name: 'r2', to: 6 },
          { type: 'property', name: 'list', to: 8 },
        ],
      },
      { type: 'object', name: 'Record', id: 5, selfSize: 16, edges: [{ type: 'property', name: 'payload', to: 3 }] },
      { type: 'string', name: 'p0', id: 7, selfSize: 1000 },
      { type: 'object', name: 'Record', id: 9, selfSize: 16, edges: [{ type: 'property', name: 'payload', to: 5 }] },
      { type: 'string', name: 'p1', id: 11, selfSize: 1000 },
      { type: 'object', name: 'Record', id: 13, selfSize: 16, edges: [{ type: 'property', name: 'payload', to: 7 }] },
      { type: 'string', name: 'p2', id: 15, selfSize: 1000 },
      { type: 'object', name: 'Node', id: 17, selfSize: 10, edges: [{ type: 'property', name: 'next', to: 9 }] },
      { type: 'object', name: 'Node', id: 19, selfSize: 10, edges: [{ type: 'property', name: 'next', to: 10 }] },
      { type: 'object', name: 'Node', id: 21, selfSize: 10 },
    ]),
  );
  const plain = new Map(diffHeapSnapshots(before, after).classes.map((r) => [r.className, r]));
  t.equal(plain.get('Record')!.newRetainedSize, undefined, 'not computed unless asked');
  const rows = new Map(diffHeapSnapshots(before, after, { retainedSizes: true }).classes.map((r) => [r.className, r]));
  t.equal(rows.get('Record')!.sizeDelta, 32, 'self size of the two new records');
  t.equal(
    rows.get('Record')!.newRetainedSize,
    2032,
    'the new records retain their payloads; the old one is not counted',
  );
  t.equal(rows.get('(string)')!.newRetainedSize, 2000);
  t.equal(rows.get('Node')!.newRetainedSize, 30, 'a list of new nodes: only its head counted, not 30 + 20 + 10');
  t.throws(() => diffHeapSnapshots(before, after, { retainedSizes: 'yes' } as never), InvalidOptionError);
  t.throws(() => diffHeapSnapshots(before, after, null as never), InvalidOptionError);
});
