/**
 * The pools a hung operation waits on, in a text report: the counts, and who holds the
 * resources — a holder whose operation already ended is the leak ("GET /tasks/:id finished 2.1 s
 * ago still holding a connection acquired at tasks.ts:42").
 */
import { formatMs } from './format-units.js';
import type { PoolHolder, PoolWait } from './hang-report.js';

/** Pools whose resources are database connections. */
const CONNECTION_POOLS = new Set(['pg.Pool', 'mysql2', 'mysql2/promise']);

/** Holders listed in a text report (the JSON report has up to 50). */
const MAX_TEXT_HOLDERS = 10;

export function renderPoolWaitsText(waits: PoolWait[]): string[] {
  const lines: string[] = [];
  for (const w of waits) {
    const noun = CONNECTION_POOLS.has(w.kind) ? 'connection' : 'resource';
    const c = w.counts;
    const of = c.max !== undefined ? ` of max ${c.max}` : ` of ${c.size}`;
    lines.push(
      `Waiting ${formatMs(w.waitingMs)} for a ${noun} of pool "${w.pool}" (${w.kind}: ${c.checkedOut} checked out${of}, ${c.idle} idle, ${c.waiting} waiting).`,
    );
    const leaked = w.holders.filter((h) => h.operation?.endedMsAgo !== undefined).length;
    const total = w.holders.length + (w.holdersOmitted ?? 0);
    if (total === 0) {
      lines.push(
        `  No ${noun} is checked out through watchPool's bookkeeping (acquired before watchPool was called, or the pool is connecting).`,
      );
      continue;
    }
    lines.push(
      `Holders (${total}${leaked > 0 ? `, ${leaked} held by operations that already finished — never released` : ''}):`,
    );
    let previousSite = '';
    for (const h of w.holders.slice(0, MAX_TEXT_HOLDERS)) {
      lines.push(`  ${holderLine(h, noun)}`);
      const top = h.acquiredAt[0];
      const site = top ? `${top.file}:${top.line}` : '';
      // The source line once per run of holders acquired at the same line.
      if (top?.sourceLine && site !== previousSite) lines.push(`      ${top.sourceLine}`);
      previousSite = site;
    }
    const more = total - Math.min(w.holders.length, MAX_TEXT_HOLDERS);
    if (more > 0) lines.push(`  … and ${more} more`);
  }
  return lines;
}

function holderLine(h: PoolHolder, noun: string): string {
  const site = h.acquiredAt[0];
  const at = site ? ` at ${site.functionName} (${site.file}:${site.line})` : '';
  const op = h.operation;
  if (!op) return `(outside any operation) holding a ${noun} for ${formatMs(h.heldMs)}, acquired${at}`;
  const id = typeof op.context?.requestId === 'string' ? `, requestId=${op.context.requestId}` : '';
  const who = `${op.name} (#${op.id}${id})`;
  if (op.endedMsAgo !== undefined) {
    return `LEAK: ${who} finished ${formatMs(op.endedMsAgo)} ago still holding a ${noun} acquired ${formatMs(h.heldMs)} ago${at}`;
  }
  return `${who} running, holding a ${noun} for ${formatMs(h.heldMs)}, acquired${at}`;
}
