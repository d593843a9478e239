/**
 * Steps: `step(name, fn)`, `handle.step(name)` and the automatic steps of outbound HTTP requests
 * (fetch through `undici:request:*`, `node:http` through `http.client.*`) — a hang report names
 * the step the operation is stuck in and how long the steps before it took.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createHangDetector, InvalidOptionError, step, withHangDetection, type HangReport } from '../../lib/index.js';
import { renderHangReportText } from '../../lib/report/index.js';
import { sleep } from '../helpers.js';

function firstReport(when: (r: HangReport) => boolean = () => true): {
  report: Promise<HangReport>;
  onHang: (r: HangReport) => void;
} {
  let resolve!: (r: HangReport) => void;
  const report = new Promise<HangReport>((r) => (resolve = r));
  return { report, onHang: (r) => void (when(r) && resolve(r)) };
}

/** The first report made once the operation is waiting on the slow request (a loaded machine may reach the deadline before). */
const waitingOnSlow = (r: HangReport): boolean => r.steps?.running.some((s) => s.name.includes('/slow')) ?? false;

t.test(
  'step(name, fn): the report names the step it is stuck in and the durations of the ones before it',
  async (t) => {
    const { report, onHang } = firstReport((r) => r.steps?.running[0]?.name === 'fetch invoices');
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const run = withHangDetection(
      async () => {
        const user = await step('authenticate', async () => {
          await sleep(20);
          return 'ann';
        });
        const profile = step('load profile', () => ({ user }));
        await step('fetch invoices', () => stuck);
        return profile;
      },
      { timeoutMs: 150, repeatMs: 100, steps: true, output: 'none', onHang, name: 'invoice page' },
    );
    const r = await report;
    release();
    t.same(await run, { user: 'ann' }, 'step returns the value of fn');
    const steps = r.steps!;
    t.ok(steps, 'the report has the steps');
    t.equal(steps.total, 3);
    t.same(
      steps.finished.map((s) => [s.index, s.name, s.kind]),
      [
        [1, 'authenticate', 'step'],
        [2, 'load profile', 'step'],
      ],
    );
    t.ok(
      steps.finished[0]!.durationMs >= 15,
      `authenticate took its 20 ms sleep (${steps.finished[0]!.durationMs} ms)`,
    );
    t.equal(steps.running.length, 1);
    t.equal(steps.running[0]!.name, 'fetch invoices');
    t.equal(steps.running[0]!.index, 3);
    t.equal(
      steps.running[0]!.startMs + steps.running[0]!.durationMs,
      r.elapsedMs,
      'running from its start to the report',
    );
    t.ok(steps.running[0]!.startMs >= steps.finished[0]!.durationMs, 'began after the steps before it');
    const text = renderHangReportText(r);
    t.match(
      text,
      /Stuck in step 3 of 3, 'fetch invoices', for \d+(\.\d)? ms; before it: authenticate \d+(\.\d)? ms, load profile \d+(\.\d)? ms/,
    );
  },
);

t.test('a failed step is marked failed; its error passes through unchanged', async (t) => {
  const { report, onHang } = firstReport((r) => r.steps?.running[0]?.name === 'retry');
  const boom = new Error('token expired');
  const run = withHangDetection(
    async () => {
      await step('authenticate', async () => {
        throw boom;
      }).catch(() => undefined);
      t.throws(
        () =>
          step('parse', () => {
            throw boom;
          }),
        boom,
      );
      await step('retry', () => sleep(400));
    },
    { timeoutMs: 100, repeatMs: 50, steps: true, output: 'none', onHang },
  );
  const r = await report;
  await run;
  t.same(
    r.steps!.finished.map((s) => [s.name, s.failed]),
    [
      ['authenticate', true],
      ['parse', true],
    ],
  );
  t.equal(r.steps!.running[0]!.name, 'retry');
  t.match(renderHangReportText(r), /authenticate [\d.]+ ms \(failed\)/);
});

t.test('outside an operation, and without steps: true, step() only calls fn', async (t) => {
  t.equal(
    step('sync', () => 42),
    42,
  );
  t.equal(await step('async', async () => 'x'), 'x');
  const { report, onHang } = firstReport();
  const run = withHangDetection(async () => step('unrecorded', () => sleep(300)), {
    timeoutMs: 80,
    output: 'none',
    onHang,
  });
  const r = await report;
  await run;
  t.equal(r.steps, undefined, 'an operation without steps: true records none');
});

t.test('a non-native thenable is awaited once and returned as a promise', async (t) => {
  let thenCalls = 0;
  const thenable: PromiseLike<number> = {
    // @ts-expect-error a minimal thenable (query builders implement only this much)
    // biome-ignore lint/suspicious/noThenProperty: the test needs a thenable that is not a promise
    then(resolve: (v: number) => void) {
      thenCalls++;
      resolve(7);
    },
  };
  const value = await withHangDetection(() => step('query', () => thenable), { steps: true, output: 'none' });
  t.equal(value, 7);
  t.equal(thenCalls, 1, 'then was called once');
});

t.test('handle.step(name): each marks the start of the next step; end() ends the last', async (t) => {
  const { report, onHang } = firstReport((r) => r.steps?.running[0]?.name === 'write rows');
  const detector = createHangDetector({ timeoutMs: 120, repeatMs: 50, output: 'none', onHang });
  const handle = detector.begin('import job');
  handle.step('download');
  await sleep(20);
  handle.step('parse');
  await sleep(5);
  handle.step('write rows');
  const r = await report;
  t.same(
    r.steps!.finished.map((s) => s.name),
    ['download', 'parse'],
  );
  t.ok(r.steps!.finished[0]!.durationMs >= 15);
  t.same(
    r.steps!.running.map((s) => s.name),
    ['write rows'],
  );
  t.equal(
    handle.step('inline', () => 5),
    5,
    'handle.step(name, fn) returns the value',
  );
  handle.end();
  t.equal(handle.ended, true);
  t.throws(() => handle.step(''), InvalidOptionError);
  t.throws(() => step('x', 5 as unknown as () => void), InvalidOptionError);
  t.throws(() => step(undefined as unknown as string, () => 1), InvalidOptionError);
});

t.test('an operation with thousands of steps keeps the most recent ones and counts the rest', async (t) => {
  const { report, onHang } = firstReport();
  const run = withHangDetection(
    async () => {
      for (let i = 0; i < 250; i++) step(`row ${i}`, () => i);
      await step('commit', () => sleep(300));
    },
    { timeoutMs: 80, steps: true, output: 'none', onHang },
  );
  const r = await report;
  await run;
  t.equal(r.steps!.total, 251);
  t.equal(r.steps!.finished.length + r.steps!.running.length, 100);
  t.equal(r.steps!.omitted, 151);
  t.equal(r.steps!.finished.at(-1)!.name, 'row 249');
  t.match(renderHangReportText(r), /Stuck in step 251 of 251, 'commit'.*before it: 151 earlier steps/);
});

async function slowServer(t: { teardown: (fn: () => void) => void }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/slow')) return; // never answers
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

t.test('fetch requests are steps: the report names the request a stuck operation waits on', async (t) => {
  const { url } = await slowServer(t);
  const { report, onHang } = firstReport(waitingOnSlow);
  const controller = new AbortController();
  const run = withHangDetection(
    async () => {
      await step('authenticate', () => sleep(5));
      await (await fetch(`${url}/profile?token=secret`)).text();
      await fetch(`${url}/slow/invoices?page=2`, { signal: controller.signal }).catch(() => undefined);
    },
    { timeoutMs: 300, repeatMs: 100, steps: true, output: 'none', onHang },
  );
  const r = await report;
  controller.abort();
  await run;
  t.same(
    r.steps!.finished.map((s) => [s.name, s.kind]),
    [
      ['authenticate', 'step'],
      [`GET ${url}/profile`, 'http'],
    ],
  );
  t.same(
    r.steps!.running.map((s) => [s.name, s.kind]),
    [[`GET ${url}/slow/invoices`, 'http']],
  );
  t.notMatch(JSON.stringify(r), /secret/, 'the query string is left out');
});

t.test('node:http client requests are steps; a failed one is marked failed', async (t) => {
  const { url } = await slowServer(t);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { report, onHang } = firstReport(waitingOnSlow);
  const httpGet = (u: string): Promise<void> =>
    new Promise((resolve) => {
      const req = get(u, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', () => resolve());
      t.teardown(() => req.destroy());
    });
  const run = withHangDetection(
    async () => {
      await httpGet(`${url}/ok`);
      await httpGet(`http://127.0.0.1:${closedPort}/down`);
      await httpGet(`${url}/slow`);
    },
    { timeoutMs: 300, repeatMs: 100, steps: true, output: 'none', onHang },
  );
  const r = await report;
  t.same(
    r.steps!.finished.map((s) => [s.name, s.kind, s.failed ?? false]),
    [
      [`GET http://${url.slice(7)}/ok`, 'http', false],
      [`GET http://127.0.0.1:${closedPort}/down`, 'http', true],
    ],
  );
  t.same(
    r.steps!.running.map((s) => s.name),
    [`GET ${url}/slow`],
  );
  void run;
});

t.test('HTTP requests outside any operation are not recorded and cost no step', async (t) => {
  const { url } = await slowServer(t);
  t.equal(await (await fetch(`${url}/ok`)).text(), 'ok');
});
