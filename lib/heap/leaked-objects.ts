/**
 * Step 1 of leak finding: the leaked objects of the final snapshot — created after the baseline
 * (their id is not in it) and present in the target — and a warning when the ids say the three
 * snapshots do not come from one process.
 */
import type { HeapSnapshot } from './heap-snapshot.js';
import type { NodeIdIndex } from './id-index.js';

export interface LeakedObjects {
  /** 1 for each leaked node ordinal of the final snapshot. */
  leaked: Uint8Array;
  leakedCount: number;
  warnings: string[];
}

export function leakedObjects(final: HeapSnapshot, baselineIds: NodeIdIndex, targetIds: NodeIdIndex): LeakedObjects {
  const n = final.nodeCount;
  const nodeId = final.raw.nodeId;
  const leaked = new Uint8Array(n);
  let leakedCount = 0;
  let inBaseline = 0;
  for (let v = 0; v < n; v++) {
    const id = nodeId[v]!;
    if (baselineIds.has(id)) {
      inBaseline++;
      continue;
    }
    if (!targetIds.has(id)) continue;
    leaked[v] = 1;
    leakedCount++;
  }
  const warnings: string[] = [];
  if (n > 0 && inBaseline < 0.1 * n) {
    warnings.push(
      `only ${((inBaseline / n) * 100).toFixed(1)}% of the objects in the final snapshot exist in the baseline: object ids match only between snapshots of one process, taken without an inspector session being closed in between`,
    );
  }
  return { leaked, leakedCount, warnings };
}
