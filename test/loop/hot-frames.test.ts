import t from 'tap';
import { hotFrames } from '../../lib/loop/hot-frames.js';
import type { BlockSample } from '../../lib/report/block-event.js';

const frame = (functionName: string, line: number) => ({ functionName, file: '/app/work.js', line, column: 1 });
const sample = (offsetMs: number, ...fns: string[]): BlockSample => ({
  offsetMs,
  captureMs: 1,
  pauseDelayMs: 1,
  frames: fns.map((f, i) => frame(f, i + 1)),
});

t.test(
  'each sample stands for the time until the next: dense early samples do not outweigh sparse late ones',
  async (t) => {
    // Phase A sampled every 50 ms for 500 ms (10 samples), phase B every 200 ms for 2000 ms (10 samples):
    // the sampling backed off, but B took four times as long.
    const samples = [
      ...Array.from({ length: 10 }, (_, i) => sample(i * 50, 'phaseA', 'work')),
      ...Array.from({ length: 10 }, (_, i) => sample(500 + i * 200, 'phaseB', 'work')),
    ];
    const hot = hotFrames(samples, 2500);
    const ratio = (fn: string): number | undefined => hot.find((h) => h.frame.functionName === fn)?.ratio;
    t.equal(ratio('work'), 1);
    t.equal(ratio('phaseB'), 0.8, 'B: 2000 of 2500 ms');
    t.equal(ratio('phaseA'), 0.2);
    t.equal(hot.find((h) => h.frame.functionName === 'phaseB')?.samples, 10, 'sample counts kept');
    t.same(
      hot.map((h) => h.frame.functionName),
      ['work', 'phaseB', 'phaseA'],
      'most time first',
    );
  },
);

t.test('without a duration or time between samples, every sample counts the same', async (t) => {
  const hot = hotFrames([sample(100, 'a'), sample(100, 'b'), sample(100, 'b')]);
  t.equal(hot.find((h) => h.frame.functionName === 'b')?.ratio, 2 / 3);
  t.same(hotFrames([]), []);
});
