/**
 * `hangwatch heap snapshot <pid>`: attach to the process, stream its heap snapshot to a file,
 * report progress on stderr (the walk of the heap, then the bytes written).
 */
import { resolve } from 'node:path';
import { withAttachedProcess } from '../attach/attach-session.js';
import { takeRemoteHeapSnapshot } from '../attach/remote-heap-snapshot.js';
import { Progress } from './cli-args.js';

export async function snapshotOfProcess(
  pid: number,
  out: string | undefined,
  showProgress: boolean,
): Promise<{ file: string; bytes: number }> {
  const file = resolve(out ?? defaultName(pid));
  const progress = new Progress(showProgress);
  const outcome = await withAttachedProcess(
    pid,
    ({ main, signal }) =>
      takeRemoteHeapSnapshot(main, file, {
        signal,
        onProgress: (p) => {
          if (p.phase === 'walk')
            progress.update(
              `walking the heap of process ${pid}: ${p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0}% (${p.done}/${p.total} objects)`,
            );
          else progress.update(`writing ${file}: ${(p.done / 1048576).toFixed(1)} MiB`);
        },
      }),
    { log: (line) => progress.log(line) },
  );
  progress.log(`hangwatch heap snapshot: process ${pid} → ${file}`);
  if (outcome.stillListening) progress.log(`hangwatch heap snapshot: warning: ${outcome.stillListening}`);
  return { file, bytes: outcome.result };
}

function defaultName(pid: number): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `hangwatch-${pid}-${stamp}.heapsnapshot`;
}
