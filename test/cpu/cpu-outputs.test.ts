// The three outputs, decoded back and checked against the in-memory statistics.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import t from 'tap';
import { CpuProfile } from '../../lib/cpu/cpu-profile.js';
import { cpuProfile } from '../../lib/cpu/session.js';
import { topFunction } from './fixtures/call-graph.js';

const dir = mkdtempSync(join(tmpdir(), 'hangwatch-cpu-out-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const recorded = cpuProfile(() => topFunction(100_000, 20), { samplingIntervalUs: 500 });

t.test('.cpuprofile: the DevTools format, written, loaded back, same statistics', async (t) => {
  const { profile } = await recorded;
  const file = await profile.writeFile(join(dir, 'run.cpuprofile'));
  const json = JSON.parse(readFileSync(file, 'utf8'));
  t.ok(Array.isArray(json.nodes) && json.nodes.length > 0, 'nodes');
  t.equal(json.samples.length, json.timeDeltas.length, 'one delta per sample');
  t.ok(json.endTime > json.startTime);
  t.equal(json.nodes[0].callFrame.functionName, '(root)');
  const ids = new Set(json.nodes.map((n: { id: number }) => n.id));
  t.ok(
    json.samples.every((s: number) => ids.has(s)),
    'every sample points at a node',
  );
  t.ok(
    json.nodes.every((n: { children?: number[] }) => (n.children ?? []).every((c) => ids.has(c))),
    'every child id exists',
  );
  const loaded = await CpuProfile.load(file);
  t.same(
    loaded.stats().entries.map((e) => [e.key, e.selfSamples, e.totalSamples]),
    profile.stats().entries.map((e) => [e.key, e.selfSamples, e.totalSamples]),
  );
  t.equal(loaded.meta.samplingIntervalUs > 0, true, 'interval estimated from the samples');
});

t.test('pprof: gzip protobuf that decodes to the same samples and times', async (t) => {
  const { profile } = await recorded;
  const buf = profile.toPprof();
  t.same([...buf.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  const p = Profile.decode(gunzipSync(buf));
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]!;
  t.same(
    p.sampleType.map((st) => [str(st.type), str(st.unit)]),
    [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
    ],
  );
  t.same([str(p.periodType!.type), str(p.periodType!.unit)], ['cpu', 'nanoseconds']);
  t.equal(Number(p.period), 500_000);
  const stats = profile.stats();
  const totalSamples = p.sample.reduce((a, s) => a + Number(s.value[0]), 0);
  const totalNs = p.sample.reduce((a, s) => a + Number(s.value[1]), 0);
  t.equal(totalSamples, stats.summary.totalSamples, 'sample counts add up');
  t.ok(Math.abs(totalNs / 1e6 - stats.summary.totalTimeMs) < 0.01 * stats.summary.totalTimeMs + 0.01, 'times add up');

  // self samples of hotFunction: samples whose leaf location is hotFunction
  const fnById = new Map(p.function.map((f) => [Number(f.id), f]));
  const locById = new Map(p.location.map((l) => [Number(l.id), l]));
  const leafName = (s: (typeof p.sample)[number]) =>
    str(fnById.get(Number(locById.get(Number(s.locationId[0]))!.line[0]!.functionId))!.name);
  const hotSelf = p.sample.filter((s) => leafName(s) === 'hotFunction').reduce((a, s) => a + Number(s.value[0]), 0);
  const hot = stats.find('hotFunction')[0]!;
  t.equal(hotSelf, hot.selfSamples);
  const hotFn = p.function.find((f) => str(f.name) === 'hotFunction')!;
  t.equal(Number(hotFn.startLine), hot.line, 'source-mapped line in pprof');
  t.ok(str(hotFn.filename).endsWith('call-graph.ts'));
  t.ok(BigInt(p.timeNanos) > 0n, 'wall-clock start');
  await profile.writeFile(join(dir, 'run.pb.gz'));
  t.same(readFileSync(join(dir, 'run.pb.gz')).subarray(0, 2), buf.subarray(0, 2));
});

t.test('flame graph HTML: self-contained, holds the functions, escapes names', async (t) => {
  const { profile } = await recorded;
  const html = profile.toFlameGraphHtml({ title: 'run <1>' });
  t.match(html, /^<!DOCTYPE html>/);
  t.match(html, /hotFunction/);
  t.match(html, /<title>run &#60;1&#62;<\/title>/);
  t.notMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'no external assets');
  t.equal(html.match(/<\/script>/g)?.length, 1, 'only the one closing script tag');
  const script = html.slice(html.indexOf('<script>') + 8, html.indexOf('</script>'));
  t.doesNotThrow(() => new Script(script), 'the inline script parses');
  const data = JSON.parse(/var root=(\{.*?\}), UNIT=/s.exec(script)![1]!) as {
    v: number;
    c: Array<{ n: string; v: number }>;
  };
  t.ok(Math.abs(data.v / 1000 - profile.stats().summary.totalTimeMs) < 0.01, 'root width = profiled time');
  const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
  t.match(
    svg,
    /<g><title>hotFunction {2}test\/cpu\/fixtures\/call-graph\.ts:\d+ — [\d.]+ m?s \([\d.]+%\)<\/title><rect /,
    'drawn without script, with tooltips',
  );
  t.match(svg, /<rect x="0\.00" y="\d+" width="1200\.00" height="16" fill="#bbb"\/>/, 'the root spans the full width');
  const evil = new CpuProfile(
    {
      nodes: [
        {
          id: 1,
          callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
          children: [2],
        },
        {
          id: 2,
          callFrame: {
            functionName: '</script><script>alert(1)</script>',
            scriptId: '1',
            url: 'file:///x.js',
            lineNumber: 0,
            columnNumber: 0,
          },
          children: [],
        },
      ],
      startTime: 0,
      endTime: 2000,
      samples: [2, 2],
      timeDeltas: [0, 1000],
    },
    {},
    { sourceMaps: false },
  ).toFlameGraphHtml();
  t.equal(evil.match(/<\/script>/g)?.length, 1, 'a function name cannot close the script');
  const file = await profile.writeFile(join(dir, 'flame.html'));
  t.match(readFileSync(file, 'utf8'), /hotFunction/);
});
