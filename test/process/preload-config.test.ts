import t from 'tap';
import { KNOWN_ENV_VARIABLES, PRELOAD_DEFAULTS, readPreloadConfig } from '../../lib/process/preload-config.js';

t.test('defaults', async (t) => {
  const { config, warnings } = readPreloadConfig({});
  t.same(config, { ...PRELOAD_DEFAULTS });
  t.same(warnings, []);
});

t.test('values are read; bad ones warn and fall back', async (t) => {
  const { config, warnings } = readPreloadConfig({
    HANGWATCH_BLOCK_MS: '250',
    HANGWATCH_FORMAT: 'JSON',
    HANGWATCH_REPORT_DIR: 'off',
    HANGWATCH_STDERR: '0',
    HANGWATCH_SAMPLE_MS: 'fast',
    HANGWATCH_CAPTURE_STACKS: 'maybe',
    HANGWATCH_CHANNEL: '/tmp/x.ndjson',
  });
  t.equal(config.blockThresholdMs, 250);
  t.equal(config.format, 'json');
  t.equal(config.reportDir, undefined);
  t.equal(config.stderr, false);
  t.equal(config.sampleIntervalMs, PRELOAD_DEFAULTS.sampleIntervalMs);
  t.equal(config.captureStacks, true);
  t.equal(config.channelPath, '/tmp/x.ndjson');
  t.equal(warnings.length, 2);
  t.match(warnings.join('\n'), /HANGWATCH_SAMPLE_MS="fast"/);
  t.equal(readPreloadConfig({ HANGWATCH_BLOCK_MS: '1' }).warnings.length, 1, 'below the minimum');
});

t.test('an unknown HANGWATCH_ variable: one warning naming the closest known one; the rest is read', async (t) => {
  const { config, warnings } = readPreloadConfig({
    HANGWATCH_BLOCKMS: '250',
    HANGWATCH_hang_ms: '500',
    HANGWATCH_FORMAT: 'json',
    HANGWATCH_ZZZZZZZZZZZZZZZZ: '1',
    PATH: '/bin',
  });
  t.equal(config.blockThresholdMs, PRELOAD_DEFAULTS.blockThresholdMs, 'the misspelt variable is not read');
  t.equal(config.format, 'json');
  t.equal(warnings.length, 3, warnings.join('\n'));
  t.match(
    warnings[0],
    /HANGWATCH_BLOCKMS is not a hangwatch setting and is ignored \(did you mean HANGWATCH_BLOCK_MS\?\)/,
  );
  t.match(warnings[1], /HANGWATCH_hang_ms .*did you mean HANGWATCH_HANG_MS\?/, 'same name in another case first');
  t.match(
    warnings[2],
    /HANGWATCH_ZZZZZZZZZZZZZZZZ is not a hangwatch setting and is ignored$/,
    'nothing close: no suggestion',
  );
});

t.test('every HANGWATCH_ variable the source reads is a known one (no warning for a real setting)', async (t) => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { root } = await import('../helpers.js');
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(/HANGWATCH_[A-Z0-9_]+/g)) names.add(m[0]);
    }
  };
  walk(join(root, 'lib'));
  walk(join(root, 'native-free-fallbacks'));
  names.delete('HANGWATCH_PPROF_EXPORT'); // a process warning's code, not a variable
  t.same(
    [...names].filter((name) => !KNOWN_ENV_VARIABLES.includes(name)),
    [],
  );
  t.same(readPreloadConfig(Object.fromEntries([...names].map((n) => [n, '']))).warnings, []);
});
