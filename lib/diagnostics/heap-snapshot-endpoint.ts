/**
 * `GET …/heap-snapshot`: a heap snapshot, written to a temporary file, streamed, and removed as soon
 * as it is open (it never lingers on disk, even if the process dies mid-send).
 */
import { createReadStream, statSync, unlink } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { writeHeapSnapshot } from '../heap/write-heap-snapshot.js';
import { DiagnosticsTooLargeError } from './errors.js';
import { fileStamp } from './http-answers.js';

export async function serveHeapSnapshot(
  res: ServerResponse,
  { dir, maxBytes }: { dir: string; maxBytes: number },
): Promise<void> {
  const used = getHeapStatistics().used_heap_size;
  // A snapshot file is at least about as big as the used heap.
  if (used > maxBytes)
    throw new DiagnosticsTooLargeError(`the heap (${used} bytes used) is over the ${maxBytes}-byte snapshot limit`);
  const file = await writeHeapSnapshot({
    dir,
    filename: `hangwatch-diagnostics-${process.pid}-${fileStamp()}.heapsnapshot`,
  });
  const remove = (): void => unlink(file, () => undefined);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    remove();
    throw err;
  }
  if (size > maxBytes) {
    remove();
    throw new DiagnosticsTooLargeError(`the snapshot (${size} bytes) is over the ${maxBytes}-byte limit`);
  }
  if (res.destroyed) {
    remove();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': size,
    'content-disposition': `attachment; filename="heap-${fileStamp()}.heapsnapshot"`,
    'cache-control': 'no-store',
  });
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    // Once open, the file can go: the snapshot never lingers on disk, even if the process dies mid-send.
    stream.once('open', remove);
    const done = (): void => {
      remove();
      resolve();
    };
    stream.once('error', () => {
      res.destroy();
      done();
    });
    res.once('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
}
