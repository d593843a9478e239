// A misspelt option key is an InvalidOptionError naming the key and the closest valid one, on every
// function that takes an options object (checked where the object is received).
import t, { type Test } from 'tap';
import { InvalidOptionError } from '../lib/index.js';
import * as api from '../lib/index.js';
import * as processApi from '../lib/process/index.js';
import { closestName } from '../lib/closest-name.js';

function expectUnknown(
  t: Test,
  call: () => unknown,
  option: string,
  suggestion: string | undefined,
): Promise<void> | void {
  const check = (error: unknown): void => {
    t.ok(error instanceof InvalidOptionError, `${option}: ${String(error)}`);
    const e = error as InvalidOptionError;
    t.equal(e.name, 'InvalidOptionError');
    t.equal(e.code, 'ERR_INVALID_OPTION');
    t.equal(e.option, option);
    t.equal(e.suggestion, suggestion);
    if (suggestion) t.match(e.message, `did you mean \`${suggestion}\`?`);
  };
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    check(error);
    return;
  }
  if (result instanceof Promise) return result.then(() => void t.fail(`${option}: resolved`), check);
  t.fail(`${option}: no error`);
}

t.test('withHangDetection and friends', async (t) => {
  await expectUnknown(
    t,
    () => api.withHangDetection(async () => 1, { timeoutMS: 100 } as never),
    'timeoutMS',
    'timeoutMs',
  );
  await expectUnknown(t, () => api.withHangDetection(async () => 1, { timeout: 100 } as never), 'timeout', 'timeoutMs');
  await expectUnknown(t, () => api.createHangDetector({ onhang: () => {} } as never), 'onhang', 'onHang');
  await expectUnknown(
    t,
    () => api.wrapWithHangDetection(async () => 1, { actoin: 'reject' } as never),
    'actoin',
    'action',
  );
  await expectUnknown(
    t,
    () => api.withHangDetection(async () => 1, { zzzzzzzzzzzz: 1 } as never),
    'zzzzzzzzzzzz',
    undefined,
  );
  await expectUnknown(
    t,
    () => api.watchEventLoop({ timeoutMs: 1000, keepAlive: false } as never),
    'keepAlive',
    undefined,
  );
});

t.test('other capabilities', async (t) => {
  await expectUnknown(t, () => api.monitorEventLoop({ threshold: 50 } as never), 'threshold', 'thresholdMs');
  await expectUnknown(
    t,
    () => api.createDiagnosticsHandler({ token: 'x'.repeat(32), allowremote: true } as never),
    'allowremote',
    'allowRemote',
  );
  await expectUnknown(t, () => api.writeHeapSnapshot({ directory: '/tmp' } as never), 'directory', undefined);
  await expectUnknown(t, () => api.writeHeapSnapshot({ filname: 'a.heapsnapshot' } as never), 'filname', 'filename');
  await expectUnknown(
    t,
    () => api.startCpuProfile({ samplingIntervalUS: 100 } as never),
    'samplingIntervalUS',
    'samplingIntervalUs',
  );
  await expectUnknown(t, () => api.startAllocationTracking({ stackdepth: 4 } as never), 'stackdepth', 'stackDepth');
  await expectUnknown(t, () => api.monitorGc({ onGC: () => {} } as never), 'onGC', 'onGc');
  await expectUnknown(
    t,
    () => processApi.diagnose([], { thresholds: { blockDelay: 5 } } as never),
    'thresholds.blockDelay',
    'blockDelayMs',
  );
  await expectUnknown(t, () => processApi.startIntervalSampler({ interval: 100 } as never), 'interval', 'intervalMs');
});

t.test('closestName: case first, then edit distance, nothing when far', async (t) => {
  t.equal(closestName('TIMEOUTMS', ['timeoutMs', 'timeout']), 'timeoutMs');
  t.equal(closestName('timout', ['timeoutMs', 'name']), 'timeoutMs');
  t.equal(closestName('qqqq', ['timeoutMs', 'name']), undefined);
});
