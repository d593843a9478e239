import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelReader, ChannelWriter } from '../../lib/process/doctor-channel.js';

t.test('records written are read back incrementally; partial and bad lines are handled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-channel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.ndjson');
  const reader = new ChannelReader(path);
  t.same(reader.readNew(), [], 'missing file reads as nothing');
  const writer = new ChannelWriter(path);
  writer.write({ type: 'exit', pid: 1, exitCode: 0, reportFiles: ['é.txt'] });
  t.same(
    reader.readNew().map((r) => r.pid),
    [1],
  );
  // A record cut in the middle of a multi-byte character, completed later.
  const line = Buffer.from(`${JSON.stringify({ type: 'exit', pid: 2, exitCode: 0, reportFiles: ['日本'] })}\n`);
  const cut = line.indexOf(Buffer.from('本')) + 1;
  appendFileSync(path, line.subarray(0, cut));
  t.same(reader.readNew(), [], 'partial line waits');
  appendFileSync(path, line.subarray(cut));
  appendFileSync(path, 'not json\n{"no":"type"}\n');
  const records = reader.readNew();
  t.equal(records.length, 1);
  t.same(records[0]?.type === 'exit' && records[0].reportFiles, ['日本']);
  t.equal(reader.malformed, 2);
  writer.close();
  t.equal(writer.write({ type: 'exit', pid: 3, exitCode: 0, reportFiles: [] }), false, 'closed writer refuses quietly');
});
