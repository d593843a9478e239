import t from 'tap';
import {
  createHangDetector,
  HangwatchError,
  InvalidOptionError,
  withHangDetection,
  wrapWithHangDetection,
} from '../../lib/index.js';

const bad: Array<[string, unknown]> = [
  ['timeoutMs', -1],
  ['timeoutMs', Number.NaN],
  ['timeoutMs', Infinity],
  ['timeoutMs', '100'],
  ['timeoutMs', 2 ** 31],
  ['action', 'explode'],
  ['repeatMs', -5],
  ['asyncTrace', 'yes'],
  ['onHang', 'not a function'],
  ['output', 42],
  ['output', { file: 3 }],
  ['format', 'xml'],
  ['exitCode', 1.5],
  ['exitCode', 300],
  ['name', 12],
  ['captureStack', 1],
];

t.test('bad options throw InvalidOptionError naming the option', async (t) => {
  for (const [option, value] of bad) {
    let caught: unknown;
    try {
      void withHangDetection(() => 1, { [option]: value } as never);
    } catch (err) {
      caught = err;
    }
    t.ok(
      caught instanceof InvalidOptionError &&
        caught instanceof HangwatchError &&
        caught.code === 'ERR_INVALID_OPTION' &&
        caught.option === option,
      `${option} = ${String(value)} → ${String(caught)}`,
    );
  }
  t.throws(() => withHangDetection(() => 1, 'fast' as never), { code: 'ERR_INVALID_OPTION', option: 'options' });
  t.throws(() => withHangDetection('not a function' as never), { code: 'ERR_INVALID_OPTION', option: 'fn' });
  t.throws(() => createHangDetector({ timeoutMs: -3 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => wrapWithHangDetection(null as never), { code: 'ERR_INVALID_OPTION' });
});

t.test('createHangDetector validates once and runs many operations', async (t) => {
  const detect = createHangDetector({ timeoutMs: 1000 });
  t.same(await Promise.all([detect(() => 1), detect(async () => 2, 'named')]), [1, 2]);
  t.throws(() => detect(() => 1, 5 as never), { code: 'ERR_INVALID_OPTION', option: 'name' });
});

t.test('wrapWithHangDetection keeps arguments, this and name', async (t) => {
  const obj = {
    factor: 3,
    times(x: number): number {
      return x * this.factor;
    },
  };
  const wrapped = wrapWithHangDetection(obj.times, { timeoutMs: 1000 });
  t.equal(wrapped.name, 'times');
  t.equal(await wrapped.call(obj, 5), 15);
});

t.test('a sync throw rejects the returned promise', async (t) => {
  await t.rejects(
    withHangDetection(() => {
      throw new TypeError('sync failure');
    }),
    TypeError,
  );
});

t.test('context is copied into reports; bad context values are rejected', async (t) => {
  let report: { context?: Record<string, unknown> } | undefined;
  await withHangDetection(() => new Promise((r) => setTimeout(r, 150)), {
    timeoutMs: 50,
    output: 'none',
    context: { method: 'GET', route: '/tasks', requestId: 'abc' },
    onHang: (r) => (report = r),
  });
  t.same(report?.context, { method: 'GET', route: '/tasks', requestId: 'abc' });
  const detect = createHangDetector({ timeoutMs: 50, output: 'none', onHang: (r) => (report = r) });
  await detect(() => new Promise((r) => setTimeout(r, 150)), 'req', { requestId: 'per-call' });
  t.same(report?.context, { requestId: 'per-call' }, 'per-call context of a detector');
  t.throws(() => withHangDetection(() => 1, { context: { nested: {} } as never }), {
    code: 'ERR_INVALID_OPTION',
    option: 'context.nested',
  });
});
