/**
 * The retainer path of a leak as the report shows it: each step's display name and the edge into it,
 * with how that edge reads in the path shape (`[]` an index, `<key>` a dynamic property name), and
 * its text (`a.x / B[3] / C`).
 */
import { booleanOption, numberOption, optionalObject, optionKeys, requiredArray } from '../validate.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import type { PathShaper } from './path-shape.js';

export interface LeakPathStep {
  /** Display name: constructor, `fn()` for closures, `(GC roots)`… */
  name: string;
  type: string;
  className: string;
  id: number;
  /**
   * The edge from the previous step to this node (null for the first step); `collapsed` says how it
   * reads in the cluster's path shape (`[]` an index, `<key>` a dynamic property name), when it does.
   */
  edge: { type: string; name: string | number; collapsed?: '[]' | '<key>' } | null;
}

/** Display name of a node in a path. */
export function displayName(snapshot: HeapSnapshot, v: number): string {
  const type = snapshot.nodeType(v);
  const name = snapshot.nodeName(v);
  switch (type) {
    case 'closure':
      return `${name || '(anonymous)'}()`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'number':
      return '(number)';
    default:
      return name || `(${type})`;
  }
}

/** The retainer path of node `v` from the GC roots, each edge marked with how it reads in the path shape. */
export function leakPath(snapshot: HeapSnapshot, v: number, shaper: PathShaper): LeakPathStep[] {
  const steps = snapshot.retainerPath(v) ?? [];
  const tree = snapshot.retainerTree();
  return steps.map((s) => {
    const step: LeakPathStep = {
      name: displayName(snapshot, s.node.ordinal),
      type: s.node.type,
      className: s.node.className,
      id: s.node.id,
      edge: s.edge,
    };
    const collapsed = s.edge
      ? shaper.collapse(tree.parentEdge[s.node.ordinal]!, tree.parentNode[s.node.ordinal]!)
      : null;
    if (step.edge && collapsed) step.edge = { ...step.edge, collapsed };
    return step;
  });
}

function edgeSuffix(edge: NonNullable<LeakPathStep['edge']>, shape: boolean): string {
  if (shape && edge.collapsed === '<key>') return '.<key>';
  if (typeof edge.name === 'number' || /^\d+$/.test(edge.name)) return shape ? '[]' : `[${edge.name}]`;
  if (edge.type === 'context') return ` (context ${edge.name})`;
  return `.${edge.name}`;
}

export interface FormatLeakPathOptions {
  /** The path shape: indices as `[]`, dynamic property names as `<key>`. */
  shape?: boolean;
  /** Start at this step, with `… / ` in front when it is not the first. */
  from?: number;
}

/** `a.x / B[3] / C`: each node followed by the edge that leads to the next one. */
const FORMAT_LEAK_PATH_OPTION_KEYS = optionKeys<FormatLeakPathOptions>({ shape: true, from: true });

export function formatLeakPath(path: LeakPathStep[], options?: FormatLeakPathOptions): string {
  const opts = optionalObject<FormatLeakPathOptions>('options', options, FORMAT_LEAK_PATH_OPTION_KEYS);
  const from = numberOption('options.from', opts.from, 0, { min: 0, integer: true });
  const shape = booleanOption('options.shape', opts.shape, false);
  const text = leakPathSegments(requiredArray('path', path, 'a leak path (an array of steps)'), shape)
    .slice(from)
    .join(' / ');
  return from > 0 ? `… / ${text}` : text;
}

/** The steps of `formatLeakPath`, one string per node. */
export function leakPathSegments(path: LeakPathStep[], shape = false): string[] {
  return path.map((step, i) => (i + 1 < path.length ? step.name + edgeSuffix(path[i + 1]!.edge!, shape) : step.name));
}
