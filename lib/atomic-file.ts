/**
 * Files hangwatch writes appear complete or not at all. Each is written under a temporary name in its
 * final directory (`.<name>.<pid>-<n>.hangwatch-tmp`) and renamed to its final name only once complete:
 * a crash, a `process.exit()` or a full disk in the middle of a write never leaves a truncated file under
 * the final name. Temporary files are removed when a write fails and, for writes cut short by
 * `process.exit()`, by an exit handler; only a killed process (SIGKILL, a crash of Node itself) can leave
 * one behind, under the temporary name.
 *
 * The rename is atomic on POSIX file systems and on NTFS. Data is not fsync'ed: the guarantee is about the
 * writing process dying, not about the machine losing power.
 */
import { copyFileSync, linkSync, renameSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const pending = new Set<string>();
let sequence = 0;
let exitHandlerInstalled = false;

function removePendingOnExit(): void {
  for (const file of pending) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
  pending.clear();
}

/**
 * A fresh temporary path next to `path`, registered for removal at exit until `commitTemporaryFile` or
 * `discardTemporaryFile` is called with it.
 */
export function temporaryPathFor(path: string): string {
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', removePendingOnExit);
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${++sequence}.hangwatch-tmp`);
  pending.add(temporary);
  return temporary;
}

/**
 * Give the complete temporary file its final name. `exclusive`: fail with EEXIST instead of replacing an
 * existing file (a hard link claims the name atomically; where hard links are not supported, an existence
 * check and a rename). The temporary file is gone afterwards whatever happens.
 */
export function commitTemporaryFile(temporary: string, path: string, exclusive = false): void {
  try {
    if (!exclusive) {
      renameSync(temporary, path);
      return;
    }
    try {
      linkSync(temporary, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw error;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error;
      renameWithoutReplacing(temporary, path);
    }
  } finally {
    discardTemporaryFile(temporary);
  }
}

function renameWithoutReplacing(temporary: string, path: string): void {
  // Opening with 'wx' claims the name (EEXIST if taken); the rename then replaces only this empty placeholder.
  writeFileSync(path, '', { flag: 'wx' });
  renameSync(temporary, path);
}

/** Remove a temporary file (after a failed write, or once committed); never throws. */
export function discardTemporaryFile(temporary: string): void {
  pending.delete(temporary);
  try {
    unlinkSync(temporary);
  } catch {
    // renamed away, or never created
  }
}

export interface AtomicWriteOptions {
  /** Fail with EEXIST instead of replacing an existing file. */
  exclusive?: boolean;
}

/** `fs.writeFileSync`, atomically: the file appears complete or not at all. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const temporary = temporaryPathFor(path);
  try {
    writeFileSync(temporary, data);
    commitTemporaryFile(temporary, path, options.exclusive);
  } catch (error) {
    discardTemporaryFile(temporary);
    throw error;
  }
}

/** `fs.promises.writeFile`, atomically. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, data);
    commitTemporaryFile(temporary, path, options.exclusive);
  } catch (error) {
    discardTemporaryFile(temporary);
    throw error;
  }
}

/**
 * `fs.appendFileSync`, atomically: the file is copied to a temporary name (a kernel copy, a reflink where
 * the file system has them), `data` appended and the copy renamed over the file. Readers see the old or
 * the new content, never half a record. Processes appending to one file at the same moment can lose a
 * record (the last rename wins): give each process its own file.
 */
export function appendFileAtomicSync(path: string, data: string | Uint8Array): void {
  const temporary = temporaryPathFor(path);
  try {
    try {
      copyFileSync(path, temporary);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    appendFileSync(temporary, data);
    commitTemporaryFile(temporary, path);
  } catch (error) {
    discardTemporaryFile(temporary);
    throw error;
  }
}
