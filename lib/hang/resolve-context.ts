/** An operation's context as reports carry it: function values called, a failing one gives its error message. */
import type { HangContext, HangContextValue } from './hang-options.js';

export function resolveContext(context: HangContext): Record<string, HangContextValue> {
  const out: Record<string, HangContextValue> = {};
  for (const key of Object.keys(context)) {
    const v = context[key];
    if (typeof v !== 'function') {
      out[key] = v as HangContextValue;
      continue;
    }
    try {
      const r = v();
      out[key] = typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean' ? r : String(r);
    } catch (err) {
      out[key] = `(error: ${(err as Error)?.message ?? String(err)})`;
    }
  }
  return out;
}

/** The context of an operation (its owner's — a request's — or its own, or its options'). */
export function contextOfOperation(op: {
  owner: { hangContext(): HangContext } | undefined;
  context: HangContext | undefined;
  config: { context: HangContext | undefined };
}): Record<string, HangContextValue> | undefined {
  const context = op.owner ? op.owner.hangContext() : (op.context ?? op.config.context);
  return context ? resolveContext(context) : undefined;
}
