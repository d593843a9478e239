// Exact aggregation on hand-made profiles: every number below follows from the sample list.
import t from 'tap';
import { CpuProfile } from '../../lib/cpu/cpu-profile.js';
import { InvalidCpuProfileError, UnknownFunctionError } from '../../lib/cpu/errors.js';
import type { RawCpuProfile } from '../../lib/capture/profile-format.js';
import { trimOwnCalls } from '../../native-free-fallbacks/inspector-cpu-profiler.js';

const cf = (functionName: string, url: string, lineNumber: number) => ({
  functionName,
  scriptId: url ? '1' : '0',
  url,
  lineNumber,
  columnNumber: 0,
});

// (root) → main → a → b → a (recursion) ; main → c ; (root) → (idle) ; main → node:internal helper
function handMade(): RawCpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: cf('(root)', '', -1), children: [2, 7] },
      { id: 2, callFrame: cf('main', 'file:///app/main.js', 0), children: [3, 6, 8] },
      { id: 3, callFrame: cf('a', 'file:///app/a.js', 9), children: [4] },
      { id: 4, callFrame: cf('b', 'file:///app/b.js', 19), children: [5] },
      { id: 5, callFrame: cf('a', 'file:///app/a.js', 9), children: [] },
      { id: 6, callFrame: cf('c', 'file:///app/c.js', 4), children: [] },
      { id: 7, callFrame: cf('(idle)', '', -1), children: [] },
      { id: 8, callFrame: cf('helper', 'node:internal/util', 99), children: [] },
    ],
    startTime: 1000,
    endTime: 1000 + 10 * 100,
    // ten samples, 100 µs apart: node 5 ×3, node 4 ×2, node 6 ×1, node 3 ×1, node 7 ×2, node 8 ×1
    samples: [5, 5, 5, 4, 4, 6, 3, 7, 7, 8],
    timeDeltas: [0, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  };
}

t.test('self and cumulative time, recursion counted once per sample', async (t) => {
  const p = new CpuProfile(handMade(), { samplingIntervalUs: 100 }, { sourceMaps: false });
  const s = p.stats();
  const by = (name: string) => s.find(name)[0]!;
  t.equal(s.summary.totalSamples, 8, 'idle samples are not profiled time');
  t.equal(s.summary.totalTimeMs, 0.8);
  t.equal(by('a').selfSamples, 4, 'a is top of node 5 (x3) and node 3 (x1)');
  t.equal(by('a').totalSamples, 6, 'a appears in samples of nodes 5,4,3 — once per sample despite recursion');
  t.equal(by('a').selfTimeMs, 0.4);
  t.equal(by('a').totalTimeMs, 0.6);
  t.equal(by('b').selfSamples, 2);
  t.equal(by('b').totalSamples, 5);
  t.equal(by('main').totalSamples, 8);
  t.equal(by('main').selfSamples, 0);
  t.equal(by('main').totalPercent, 100);
  t.equal(by('a').line, 10, '1-based line of the definition');
  t.equal(by('a').file, '/app/a.js');
  t.equal(by('a').key, 'a (/app/a.js:10)');
  t.same(
    s.sort('self').entries.map((e) => e.functionName),
    ['a', 'b', 'c', 'helper', 'main'],
  );
  t.same(
    s
      .sort('cumulative')
      .top(2)
      .entries.map((e) => e.functionName),
    ['main', 'a'],
  );
  t.same(
    p.top(2).entries.map((e) => e.functionName),
    ['main', 'a'],
    'profile.top() is stats().top()',
  );
  t.same(p.sort('self').entries, s.sort('self').entries, 'profile.sort() is stats().sort()');
  t.same(
    s.sort('name').entries.map((e) => e.functionName),
    ['a', 'b', 'c', 'helper', 'main'],
  );
  t.same(
    s.sort('file').entries.map((e) => e.file),
    ['/app/a.js', '/app/b.js', '/app/c.js', '/app/main.js', 'node:internal/util'],
  );
});

t.test('last sample lasts until endTime; deltas give durations', async (t) => {
  const raw = handMade();
  raw.timeDeltas = [0, 100, 100, 100, 100, 100, 100, 100, 100, 500];
  raw.endTime = raw.startTime + 800 + 500 + 50;
  const s = new CpuProfile(raw, {}, { sourceMaps: false }).stats();
  // node 8 (helper) is the last sample: it is at 2300 and lasts until endTime, 2350.
  t.equal(s.find('helper')[0]!.selfTimeMs, 0.05);
  // the sample before it (idle at 900) lasted 500 µs, but idle is not counted
  t.equal(s.summary.totalTimeMs, 0.75);
});

t.test('callers and callees are weighted by samples and deduplicated per sample', async (t) => {
  const p = new CpuProfile(handMade(), {}, { sourceMaps: false });
  const names = (rs: { function: { functionName: string }; samples: number }[]) =>
    rs.map((r) => [r.function.functionName, r.samples]);
  // main→a is on the stacks of nodes 5 (x3), 4 (x2) and 3 (x1); b→a only on node 5.
  t.same(names(p.callers('a')), [
    ['main', 6],
    ['b', 3],
  ]);
  t.same(names(p.callees('a')), [['b', 5]]);
  t.same(names(p.callees('main')), [
    ['a', 6],
    ['c', 1],
    ['helper', 1],
  ]);
  t.same(names(p.callers('b')), [['a', 5]]);
  t.same(p.callers('main'), []);
  t.equal(p.callers('a (/app/a.js:10)').length, 2, 'full key works');
  t.throws(() => p.callers('nope'), UnknownFunctionError);
  t.throws(() => p.callers(42 as never), { code: 'ERR_INVALID_OPTION' });
});

t.test('filters hide frames and pass their time to the visible caller', async (t) => {
  const p = new CpuProfile(handMade(), {}, { sourceMaps: false });
  const internal = p.filter({ excludeNodeInternals: true }).stats();
  t.equal(internal.find('helper').length, 0);
  t.equal(internal.find('main')[0]!.selfSamples, 1, "helper's sample goes to main");
  const onlyA = p.filter({ include: ['/app/a.js'] }).stats();
  t.same(onlyA.entries.map((e) => e.functionName).sort(), ['(filtered)', 'a']);
  t.equal(onlyA.find('a')[0]!.selfSamples, 6, 'b is hidden: its samples are charged to a');
  t.equal(onlyA.find('(filtered)')[0]!.selfSamples, 2, 'samples with no visible frame');
  const glob = p.filter({ exclude: ['*/b.js', /c\.js$/] }).stats();
  t.same(glob.entries.map((e) => e.functionName).sort(), ['a', 'helper', 'main']);
  t.throws(() => p.filter({ include: [3 as never] }), { code: 'ERR_INVALID_OPTION' });
  const idle = p.filter({ includeIdle: true }).stats();
  t.equal(idle.summary.totalSamples, 10);
  t.equal(idle.find('(idle)')[0]!.selfSamples, 2);
});

t.test('profiles without samples use hit counts', async (t) => {
  const raw = handMade();
  delete raw.samples;
  delete raw.timeDeltas;
  raw.nodes[4]!.hitCount = 3;
  raw.nodes[3]!.hitCount = 1;
  const s = new CpuProfile(raw, {}, { sourceMaps: false }).stats();
  t.equal(s.find('a')[0]!.selfSamples, 3);
  t.equal(s.find('a')[0]!.totalSamples, 4);
});

t.test('invalid profiles are rejected with a typed error', async (t) => {
  t.throws(() => CpuProfile.fromJSON('{nope'), InvalidCpuProfileError);
  t.throws(() => CpuProfile.fromJSON({ nodes: 'x' }), InvalidCpuProfileError);
  t.throws(() => CpuProfile.fromJSON({ nodes: [{}], startTime: 0, endTime: 1 }), InvalidCpuProfileError);
  t.throws(() => new CpuProfile(handMade()).stats().sort('bogus' as never), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => new CpuProfile(handMade()).stats().top(-1), { code: 'ERR_INVALID_OPTION' });
});

t.test('print renders a pstats-like table', async (t) => {
  const chunks: string[] = [];
  new CpuProfile(handMade(), { samplingIntervalUs: 100 }, { sourceMaps: false }).print({
    sort: 'self',
    top: 2,
    stream: { write: (s: string) => chunks.push(s) },
  });
  const text = chunks.join('');
  t.match(text, /8 samples in 0\.001 seconds \(sampling interval 100 µs\)/);
  t.match(text, /Ordered by: internal time/);
  t.match(text, /samples\s+tottime\s+percent\s+cumtime\s+percent\s+filename:lineno\(function\)/);
  const rows = text.trim().split('\n').slice(-2);
  t.match(rows[0]!, /^\s+4\s+0\.000\s+50\.0%\s+0\.001\s+75\.0%\s+\/app\/a\.js:10\(a\)$/);
  t.match(rows[1]!, /\/app\/b\.js:20\(b\)$/);
});

t.test("hangwatch's own start/stop dispatch is trimmed from the ends of a recording", async (t) => {
  const own = (id: number, children: number[] = []) => ({ id, callFrame: cf('post', 'node:inspector', 111), children });
  const raw: RawCpuProfile = {
    nodes: [
      { id: 1, callFrame: cf('(root)', '', -1), children: [2, 6] },
      { id: 2, callFrame: cf('stop', 'file:///x/native-free-fallbacks/inspector-session.js', 40), children: [3] },
      own(3, [4]),
      { id: 4, callFrame: cf('dispatch', '', -1), children: [] },
      { id: 6, callFrame: cf('work', 'file:///app/work.js', 0), children: [7] },
      // a user's own inspector call is kept: its caller is not hangwatch's session
      own(7, []),
    ],
    startTime: 0,
    endTime: 1000,
    samples: [4, 4, 6, 7, 6, 4, 4],
    timeDeltas: [0, 100, 100, 100, 100, 100, 100],
  };
  const trimmed = trimOwnCalls(raw);
  t.same(trimmed.samples, [6, 7, 6]);
  t.equal(trimmed.startTime, 200, 'starts at the first kept sample');
  t.equal(trimmed.endTime, 500, 'ends where the first trailing own sample was taken');
  t.same(trimmed.timeDeltas, [0, 100, 100]);
  const s = new CpuProfile(trimmed, {}, { sourceMaps: false }).stats();
  t.equal(s.summary.totalTimeMs, 0.3);
  t.same(s.entries.map((e) => e.functionName).sort(), ['post', 'work'], 'functions without samples are not rows');
  t.equal(trimOwnCalls({ ...raw, samples: [6, 6], timeDeltas: [0, 10] }).samples!.length, 2, 'nothing to trim');
});

t.test("a regular expression's frame keeps the start of its source, not all of it", async (t) => {
  const source = Array.from({ length: 60 }, (_, i) => `word${i}`).join('|');
  const profile = new CpuProfile({
    nodes: [
      { id: 1, callFrame: cf('(root)', '', -1), children: [2] },
      { id: 2, callFrame: cf('main', 'file:///app/main.js', 0), children: [3] },
      { id: 3, callFrame: cf(`RegExp: (${source})+x$`, '', -1), children: [] },
    ],
    startTime: 0,
    endTime: 300,
    samples: [3, 3, 3],
    timeDeltas: [0, 100, 100],
  });
  const names = profile.stats().entries.map((r) => r.functionName);
  const re = names.find((n) => n.startsWith('RegExp: '));
  t.ok(re, names.join(', '));
  t.ok(re!.length <= 60, `${re!.length} characters: ${re}`);
  t.match(re, /^RegExp: \(word0\|word1\|.*…$/);
});
