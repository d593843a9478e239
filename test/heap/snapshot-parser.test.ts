import t from 'tap';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot as v8WriteHeapSnapshot } from 'node:v8';
import { HeapSnapshotParser, type RawHeapSnapshot } from '../../lib/heap/snapshot-parser.js';
import { loadHeapSnapshot, loadHeapSnapshotIds, parseHeapSnapshot } from '../../lib/heap/load-heap-snapshot.js';
import {
  HeapSnapshotReadError,
  NotAHeapSnapshotError,
  SnapshotCorruptError,
  SnapshotTruncatedError,
} from '../../lib/heap/errors.js';
import { type HangwatchError, InvalidOptionError } from '../../lib/errors.js';
import { buildSnapshot, root, type TinyNode } from './helpers/build-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-parser-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const tricky = [
  'plain',
  'tab\there "quoted" back\\slash',
  'smile \ud83d\ude00 é ü 中文',
  'lone \ud800 surrogate',
  'nl\nand/solidus',
  '\u0001ctl',
  'ends in a backslash \\',
  '\\\\"]',
  ']',
];
const nodes: TinyNode[] = [
  root([{ type: 'element', name: 1, to: 1 }]),
  {
    type: 'object',
    name: tricky[0]!,
    id: 3,
    selfSize: 4294967296 * 3 + 5,
    edges: [{ type: 'property', name: tricky[1]!, to: 2 }],
  },
  { type: 'string', name: tricky[2]!, id: 5, selfSize: 16, edges: [{ type: 'element', name: 7, to: 3 }] },
  { type: 'closure', name: tricky[3]!, id: 7, selfSize: 32, edges: [{ type: 'context', name: tricky[4]!, to: 1 }] },
  {
    type: 'object',
    name: tricky[5]!,
    id: 4000000001,
    selfSize: 0,
    edges: tricky.slice(6).map((name) => ({ type: 'property' as const, name, to: 1 })),
  },
];

function columns(raw: RawHeapSnapshot): unknown {
  return {
    nodeCount: raw.nodeCount,
    edgeCount: raw.edgeCount,
    nodeType: [...raw.nodeType],
    nodeName: [...raw.nodeName].map((i) => raw.strings[i]),
    nodeId: [...raw.nodeId],
    nodeSelfSize: [...raw.nodeSelfSize],
    firstEdge: [...raw.firstEdge],
    edgeType: [...raw.edgeType],
    edgeTo: [...raw.edgeTo],
    locations: [...raw.locations],
  };
}

function parse(text: string | Buffer, chunk = Infinity): RawHeapSnapshot {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const p = new HeapSnapshotParser('<test>', bytes.length);
  for (let i = 0; i < bytes.length; i += chunk === Infinity ? bytes.length : chunk)
    p.write(bytes.subarray(i, Math.min(bytes.length, i + chunk)));
  return p.end();
}

t.test('parses a snapshot into columns, strings decoded exactly (escapes, surrogates, UTF-8)', async (t) => {
  const text = buildSnapshot(nodes, { locations: [[3, 12, 40, 2]] });
  const raw = parse(text);
  t.equal(raw.nodeCount, 5);
  t.equal(raw.edgeCount, 7);
  t.same([...raw.nodeId], [1, 3, 5, 7, 4000000001]);
  t.equal(raw.nodeSelfSize[1], 4294967296 * 3 + 5, 'self sizes above 2^32 are kept');
  t.same([...raw.firstEdge], [0, 1, 2, 3, 4, 7]);
  t.same([...raw.edgeTo], [1, 2, 3, 1, 1, 1, 1]);
  t.same([...raw.locations], [3, 12, 40, 2], 'locations object_index converted to a node ordinal');
  t.same(raw.meta.edgeTypes, ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']);
  // the reference: JSON.parse of the whole (small) text
  const ref = JSON.parse(text) as { strings: string[] };
  t.same(raw.strings, ref.strings, 'every string equals what JSON.parse gives');
  for (const s of tricky) t.ok(raw.strings.includes(s), `has ${JSON.stringify(s)}`);
  const snap = parseHeapSnapshot(text);
  t.equal(snap.edgeName(1), 'tab\there "quoted" back\\slash');
  t.equal(snap.edgeName(2), 7, 'element edges carry indices');
});

t.test(
  'any chunking gives the same result, including splits inside numbers, escapes and UTF-8 sequences',
  async (t) => {
    const text = buildSnapshot(nodes);
    const whole = columns(parse(text));
    const wholeStrings = parse(text).strings;
    for (const size of [1, 2, 3, 7, 64]) {
      const raw = parse(text, size);
      t.same(columns(raw), whole, `chunks of ${size}`);
      t.same(raw.strings, wholeStrings, `strings with chunks of ${size}`);
    }
  },
);

t.test('the ids-only parse skips edges and strings but finds the same ids, under any chunking', async (t) => {
  const text = buildSnapshot(nodes, { locations: [[3, 12, 40, 2]] });
  const bytes = Buffer.from(text);
  for (const size of [1, 2, 3, 5, 7, 1 << 20]) {
    const p = new HeapSnapshotParser('<test>', bytes.length, { idsOnly: true });
    for (let i = 0; i < bytes.length; i += size) p.write(bytes.subarray(i, i + size));
    t.same([...p.endIds()], [1, 3, 5, 7, 4000000001], `chunks of ${size}`);
  }
  const cut = new HeapSnapshotParser('<test>', undefined, { idsOnly: true });
  cut.write(bytes.subarray(0, bytes.length - 30));
  t.throws(() => cut.endIds(), { code: 'ERR_SNAPSHOT_TRUNCATED' });
});

t.test('reads the field order from snapshot.meta', async (t) => {
  const reordered = buildSnapshot(nodes, {
    nodeFields: ['id', 'edge_count', 'extra_field', 'self_size', 'name', 'type'],
    edgeFields: ['to_node', 'type', 'name_or_index'],
  });
  const a = parse(buildSnapshot(nodes));
  const b = parse(reordered);
  t.same(columns(b), columns(a));
  t.same(b.strings, a.strings);
  t.equal(b.nodeDetachedness, null, 'no detachedness field, no column');
});

t.test('works without node_count / edge_count in the header (growable arrays)', async (t) => {
  const many: TinyNode[] = [
    root(Array.from({ length: 3000 }, (_, i) => ({ type: 'element' as const, name: i, to: i + 1 }))),
  ];
  for (let i = 1; i <= 3000; i++) many.push({ type: 'object', name: `O${i % 7}`, id: 2 * i + 1, selfSize: i });
  const text = buildSnapshot(many).replace(/"node_count":\d+,"edge_count":\d+,/, '');
  t.notMatch(text, /node_count/);
  const raw = parse(text, 1000);
  t.equal(raw.nodeCount, 3001);
  t.equal(raw.edgeCount, 3000);
  t.equal(raw.nodeSelfSize[3000], 3000);
  t.equal(raw.edgeTo[2999], 3000);
});

t.test('skips unknown and unused sections, whatever their shape', async (t) => {
  const extra = '"samples":[1,2,3],"future_thing":{"a":[1,{"b":"}]"}],"c":null},"flag":true,"n":-1.5e3,\n';
  const text = buildSnapshot(nodes).replace('"samples":[],\n', '').replace('"strings":', `${extra}"strings":`);
  t.same(columns(parse(text, 5)), columns(parse(buildSnapshot(nodes))));
});

t.test('matches JSON.parse on a real Node heap snapshot, node by node and edge by edge', async (t) => {
  const file = v8WriteHeapSnapshot(join(dir, 'real.heapsnapshot'));
  const text = readFileSync(file, 'utf8');
  const ref = JSON.parse(text) as {
    snapshot: { meta: { node_fields: string[]; edge_fields: string[] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const snap = await loadHeapSnapshot(file, { chunkSize: 65536 });
  const raw = snap.raw;
  const nf = ref.snapshot.meta.node_fields;
  const ef = ref.snapshot.meta.edge_fields;
  const F = nf.length;
  t.equal(raw.nodeCount, ref.nodes.length / F);
  t.equal(raw.edgeCount, ref.edges.length / ef.length);
  t.same(raw.strings, ref.strings);
  let bad = 0;
  let e = 0;
  for (let n = 0; n < raw.nodeCount; n++) {
    const rec = (f: string): number => ref.nodes[n * F + nf.indexOf(f)]!;
    if (
      raw.nodeType[n] !== rec('type') ||
      raw.nodeName[n] !== rec('name') ||
      raw.nodeId[n] !== rec('id') ||
      raw.nodeSelfSize[n] !== rec('self_size')
    )
      bad++;
    if (raw.firstEdge[n + 1]! - raw.firstEdge[n]! !== rec('edge_count')) bad++;
    for (let k = 0; k < rec('edge_count'); k++, e++) {
      const er = (f: string): number => ref.edges[e * ef.length + ef.indexOf(f)]!;
      if (
        raw.edgeType[e] !== er('type') ||
        raw.edgeNameOrIndex[e] !== er('name_or_index') ||
        raw.edgeTo[e]! * F !== er('to_node')
      )
        bad++;
    }
  }
  t.equal(bad, 0, 'no field differs');
  t.same(
    [...(await loadHeapSnapshotIds(file, { chunkSize: 65536 }))],
    [...raw.nodeId],
    'the ids-only load gives the same ids',
  );
});

t.test('truncated input: typed error naming the byte offset where input ended', async (t) => {
  const text = buildSnapshot(nodes);
  const cuts = [
    5,
    20,
    text.indexOf('"nodes"') + 12,
    text.indexOf('"edges"') + 10,
    text.indexOf('"strings"') + 15,
    text.length - 1,
  ];
  for (const cut of cuts) {
    const err = t.throws(() => parse(text.slice(0, cut), 3)) as HangwatchError & { offset: number };
    if (cut === 5) {
      t.ok(err instanceof NotAHeapSnapshotError, 'cut inside the first key: not recognisable as a snapshot');
      continue;
    }
    t.ok(err instanceof SnapshotTruncatedError, `cut at ${cut}: ${err.message}`);
    t.equal(err.code, 'ERR_SNAPSHOT_TRUNCATED');
    t.equal(err.offset, Buffer.byteLength(text.slice(0, cut)));
    t.match(err.message, /byte offset \d+/);
  }
  const file = join(dir, 'truncated.heapsnapshot');
  writeFileSync(file, text.slice(0, text.length - 40));
  await t.rejects(loadHeapSnapshot(file), { code: 'ERR_SNAPSHOT_TRUNCATED', path: file });
  await t.rejects(loadHeapSnapshotIds(file), { code: 'ERR_SNAPSHOT_TRUNCATED', path: file });
});

t.test(
  'a large snapshot cut early (its header counts more than the file can hold) is truncated, not corrupt',
  async (t) => {
    const many: TinyNode[] = [
      root(Array.from({ length: 3000 }, (_, i) => ({ type: 'element' as const, name: i, to: i + 1 }))),
    ];
    for (let i = 1; i <= 3000; i++)
      many.push({
        type: 'object',
        name: `Thing${i % 7}`,
        id: 2 * i + 1,
        selfSize: 32,
        edges: [{ type: 'property', name: 'next', to: (i % 3000) + 1 }],
      });
    const text = buildSnapshot(many);
    for (const share of [0.05, 0.15, 0.25]) {
      const cut = Buffer.from(text).subarray(0, Math.floor(text.length * share));
      const err = t.throws(() => parse(cut, 4096)) as HangwatchError & { offset: number };
      t.equal(err.code, 'ERR_SNAPSHOT_TRUNCATED', `cut at ${share * 100}%: ${err.message}`);
      t.equal(err.offset, cut.length, 'where the input ended');
    }
  },
);

t.test('corrupt input: typed error at the offending byte', async (t) => {
  const text = buildSnapshot(nodes);
  const at = text.indexOf('"nodes":[') + 9;
  const bad = `${text.slice(0, at)}9,x${text.slice(at + 3)}`;
  const err = t.throws(() => parse(bad, 4)) as SnapshotCorruptError;
  t.ok(err instanceof SnapshotCorruptError);
  t.equal(err.code, 'ERR_SNAPSHOT_CORRUPT');
  t.equal(err.offset, at + 2, 'offset of the "x"');

  // an edge pointing into the middle of a node
  const edgesAt = text.indexOf('"edges":[') + 9;
  const firstEdge = text.slice(edgesAt).split('\n')[0]!; // "1,1,7"
  const broken = text.slice(0, edgesAt) + firstEdge.replace(/\d+$/, '8') + text.slice(edgesAt + firstEdge.length);
  t.throws(() => parse(broken), { code: 'ERR_SNAPSHOT_CORRUPT', message: /not the start of a node/ });

  // counts that do not add up
  t.throws(() => parse(text.replace('"node_count":5', '"node_count":6')), {
    code: 'ERR_SNAPSHOT_CORRUPT',
    message: /node_count/,
  });
  // a whole file whose count is far more than it can hold: corrupt, found without allocating for the count
  t.throws(() => parse(text.replace('"node_count":5', '"node_count":99999999')), {
    code: 'ERR_SNAPSHOT_CORRUPT',
    message: /node_count is 99999999 but "nodes" holds 5/,
  });
  // a string index past the table
  t.throws(() => parse(text.replace(/"strings":\["<dummy>",\n""/, '"strings":["<dummy>"')), {
    code: 'ERR_SNAPSHOT_CORRUPT',
  });
  // garbage after the end
  t.throws(() => parse(`${text} {}`), { code: 'ERR_SNAPSHOT_CORRUPT', message: /after the end/ });
  // an invalid escape
  t.throws(() => parse(text.replace('"plain"', '"pl\\qain"')), { code: 'ERR_SNAPSHOT_CORRUPT', message: /escape/ });
});

t.test('non-snapshot input: typed error', async (t) => {
  for (const [input, offset] of [
    ['hello world', 0],
    ['', 0],
    ['[1,2,3]', 0],
    ['{"name":"package","version":"1.0.0"}', 0],
    ['{"snapshot":{"title":"x"},"nodes":[]}', 12],
  ] as const) {
    const err = t.throws(() => parse(input)) as NotAHeapSnapshotError;
    t.ok(err instanceof NotAHeapSnapshotError, `${JSON.stringify(input)}: ${err.message}`);
    t.equal(err.code, 'ERR_NOT_A_HEAP_SNAPSHOT');
    t.equal(err.offset, offset);
  }
  await t.rejects(loadHeapSnapshot(join(dir, 'missing.heapsnapshot')), HeapSnapshotReadError);
  await t.rejects(loadHeapSnapshot(dir), { code: 'ERR_SNAPSHOT_READ' });
  await t.rejects(loadHeapSnapshot(''), InvalidOptionError);
  await t.rejects(loadHeapSnapshot('x', { chunkSize: 0 }), InvalidOptionError);
});

t.test('reports read progress up to the file size', async (t) => {
  const file = join(dir, 'progress.heapsnapshot');
  const text = buildSnapshot(nodes);
  writeFileSync(file, text);
  const seen: number[] = [];
  await loadHeapSnapshot(file, { chunkSize: 100, onProgress: (p) => seen.push(p.bytesRead) });
  t.ok(seen.length >= Math.floor(text.length / 100));
  t.equal(seen[seen.length - 1], Buffer.byteLength(text));
  t.same(
    seen,
    [...seen].sort((a, b) => a - b),
    'monotonic',
  );
});
