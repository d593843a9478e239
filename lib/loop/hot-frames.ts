/**
 * Which frames were on the stack for how much of the sampled time: the "where did the time go" of a
 * long block. Each sample stands for the time until the next one (the last: until the block ended),
 * so the back-off of the sampling interval on long blocks — and uneven intervals on a loaded
 * machine — do not over-weight the early samples.
 */
import { isNodeInternal, type StackFrame } from '../capture/stack-frame.js';
import type { BlockSample, HotFrame } from '../report/block-event.js';

export function hotFrames(samples: BlockSample[], durationMs?: number, limit = 20): HotFrame[] {
  if (samples.length === 0) return [];
  const weights = samples.map((s, i) =>
    Math.max(0, (samples[i + 1]?.offsetMs ?? durationMs ?? s.offsetMs) - s.offsetMs),
  );
  let total = weights.reduce((a, b) => a + b, 0);
  // No time to go by (one sample at the very end, or no duration): every sample counts the same.
  if (!(total > 0)) {
    weights.fill(1);
    total = samples.length;
  }
  const counts = new Map<string, { frame: StackFrame; samples: number; weight: number; depth: number }>();
  samples.forEach((sample, i) => {
    const weight = weights[i] ?? 0;
    const seen = new Set<string>();
    sample.frames.forEach((frame, depth) => {
      if (isNodeInternal(frame)) return;
      const key = `${frame.functionName}\0${frame.file}\0${frame.line}`;
      if (seen.has(key)) return; // recursion: count a frame once per sample
      seen.add(key);
      const entry = counts.get(key);
      if (entry) {
        entry.samples++;
        entry.weight += weight;
        entry.depth = Math.min(entry.depth, depth);
      } else {
        counts.set(key, { frame, samples: 1, weight, depth });
      }
    });
  });
  // Most time first; among equals, the innermost (closest to where the time is spent).
  return [...counts.values()]
    .sort((a, b) => b.weight - a.weight || a.depth - b.depth)
    .slice(0, limit)
    .map(({ frame, samples: n, weight }) => ({ frame, samples: n, ratio: weight / total }));
}
