import t from 'tap';
import { PRELOAD_DEFAULTS, readPreloadConfig } from '../../lib/process/preload-config.js';

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
