/**
 * Builds small V8-format heap snapshots for tests, with the same meta a Node 20 snapshot has
 * (or a custom field order, to check that the parser reads meta rather than assuming it).
 */
export interface TinyEdge {
  type: 'context' | 'element' | 'property' | 'internal' | 'hidden' | 'shortcut' | 'weak';
  /** Property name, or element index for element/hidden edges. */
  name: string | number;
  to: number;
}

export interface TinyNode {
  type: string;
  name: string;
  id: number;
  selfSize: number;
  edges?: TinyEdge[];
}

export const NODE_TYPES = [
  'hidden',
  'array',
  'string',
  'object',
  'code',
  'closure',
  'regexp',
  'number',
  'native',
  'synthetic',
  'concatenated string',
  'sliced string',
  'symbol',
  'bigint',
  'object shape',
];
export const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

export interface BuildOptions {
  nodeFields?: string[];
  edgeFields?: string[];
  /** Extra top-level sections written before "strings" (e.g. samples). */
  extra?: string;
  /** Add `locations` entries as [nodeOrdinal, scriptId, line, column]. */
  locations?: number[][];
}

export function buildSnapshot(nodes: TinyNode[], options: BuildOptions = {}): string {
  const nodeFields = options.nodeFields ?? [
    'type',
    'name',
    'id',
    'self_size',
    'edge_count',
    'trace_node_id',
    'detachedness',
  ];
  const edgeFields = options.edgeFields ?? ['type', 'name_or_index', 'to_node'];
  const strings: string[] = ['<dummy>'];
  const index = new Map<string, number>();
  const str = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const nodeValues: number[] = [];
  const edgeValues: number[] = [];
  for (const node of nodes) {
    const edges = node.edges ?? [];
    const byField: Record<string, number> = {
      type: NODE_TYPES.indexOf(node.type),
      name: str(node.name),
      id: node.id,
      self_size: node.selfSize,
      edge_count: edges.length,
      trace_node_id: 0,
      detachedness: 0,
    };
    if (byField.type! < 0) throw new Error(`unknown node type ${node.type}`);
    for (const f of nodeFields) nodeValues.push(byField[f] ?? 0);
    for (const e of edges) {
      const numeric = e.type === 'element' || e.type === 'hidden';
      const ef: Record<string, number> = {
        type: EDGE_TYPES.indexOf(e.type),
        name_or_index: numeric ? Number(e.name) : str(String(e.name)),
        to_node: e.to * nodeFields.length,
      };
      for (const f of edgeFields) edgeValues.push(ef[f] ?? 0);
    }
  }
  const meta = {
    node_fields: nodeFields,
    node_types: nodeFields.map((f) => (f === 'type' ? NODE_TYPES : f === 'name' ? 'string' : 'number')),
    edge_fields: edgeFields,
    edge_types: edgeFields.map((f) =>
      f === 'type' ? EDGE_TYPES : f === 'name_or_index' ? 'string_or_number' : f === 'to_node' ? 'node' : 'number',
    ),
    trace_function_info_fields: ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'],
    trace_node_fields: ['id', 'function_info_index', 'count', 'size', 'children'],
    sample_fields: ['timestamp_us', 'last_assigned_id'],
    location_fields: ['object_index', 'script_id', 'line', 'column'],
  };
  const edgeCount = edgeValues.length / edgeFields.length;
  const locations = (options.locations ?? [])
    .map(([o, s, l, c]) => [o! * nodeFields.length, s, l, c].join(','))
    .join('\n,');
  return (
    `{"snapshot":{"meta":${JSON.stringify(meta)},"node_count":${nodes.length},"edge_count":${edgeCount},"trace_function_count":0},\n` +
    `"nodes":[${chunked(nodeValues, nodeFields.length)}],\n` +
    `"edges":[${chunked(edgeValues, edgeFields.length)}],\n` +
    `"trace_function_infos":[],\n"trace_tree":[],\n"samples":[],\n"locations":[${locations}],\n` +
    (options.extra ?? '') +
    `"strings":[${strings.map((s) => JSON.stringify(s)).join(',\n')}]}`
  );
}

/** V8 writes one record per line, with the comma at the start of the next line. */
function chunked(values: number[], width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += width) lines.push(values.slice(i, i + width).join(','));
  return lines.join('\n,');
}

/** Root (0) → (GC roots) (1) → ... helper: a synthetic root with the given edges. */
export function root(edges: TinyEdge[]): TinyNode {
  return { type: 'synthetic', name: '', id: 1, selfSize: 0, edges };
}
