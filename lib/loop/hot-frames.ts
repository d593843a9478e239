/** Which frames were on the stack in how many samples: the "where did the time go" of a long block. */
import { isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import type { BlockSample, HotFrame } from '../report/block-event.js';

export function hotFrames(samples: BlockSample[], limit = 20): HotFrame[] {
  if (samples.length === 0) return [];
  const counts = new Map<string, { frame: StackFrame; samples: number; depth: number }>();
  for (const sample of samples) {
    const seen = new Set<string>();
    sample.frames.forEach((frame, depth) => {
      if (isNodeInternal(frame)) return;
      const key = `${frame.functionName}\0${frame.file}\0${frame.line}`;
      if (seen.has(key)) return; // recursion: count a frame once per sample
      seen.add(key);
      const entry = counts.get(key);
      if (entry) {
        entry.samples++;
        entry.depth = Math.min(entry.depth, depth);
      } else {
        counts.set(key, { frame, samples: 1, depth });
      }
    });
  }
  // Most frequent first; among equals, the innermost (closest to where the time is spent).
  return [...counts.values()]
    .sort((a, b) => b.samples - a.samples || a.depth - b.depth)
    .slice(0, limit)
    .map(({ frame, samples: n }) => ({ frame, samples: n, ratio: n / samples.length }));
}
