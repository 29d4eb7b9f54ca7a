import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * O_EXCL makes `open` fail on any existing name, a planted symlink included, and O_NOFOLLOW refuses a
 * symlink in the last component even where O_EXCL alone would not be enough (some network filesystems).
 * Together with a random name, nobody who can write to the state directory can make the agent write
 * through a link they prepared.
 */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Agent state is nobody else's business; the file is replaced whole, so its mode is set here. */
const STATE_FILE_MODE = 0o600;
const TEMPORARY_SUFFIX = '.tmp';

export interface ReplaceOptions {
  /** fsync the file before the rename and the directory after it (durability across power loss). */
  fsync: boolean;
}

/** `<name>.<pid>.<random>.tmp` beside the target: unique per write, so no fixed name can be planted in advance. */
function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(8).toString('hex')}${TEMPORARY_SUFFIX}`;
}

/**
 * Replaces `path` with `contents` atomically: a fresh temporary file (created exclusively, never through a
 * symlink), written, optionally fsynced, renamed over the target, then the directory fsynced. A crash at any
 * instant leaves the old file or the new one, never a torn one. The temporary is removed when a step fails.
 */
export async function replaceFileAtomically(path: string, contents: string, options: ReplaceOptions): Promise<void> {
  const temporary = temporaryName(path);
  const handle = await open(temporary, CREATE_NEW, STATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(contents);
      if (options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined); // best effort: a leftover is removed at the next start
    throw error;
  }
  if (options.fsync) await syncDirectory(dirname(path));
}

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes temporaries a crash left beside `path` (`<name>.….tmp`, and the fixed `<name>.tmp` older
 * versions used). Unlinking a planted symlink removes the link, never its target.
 */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMPORARY_SUFFIX)) continue;
    await unlink(join(dirname(path), name)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }
}

/**
 * Creates `directory` if needed, then creates and removes a file in it: proves, at start-up, that the state
 * the process will write later can be written at all (permissions, a read-only mount, a file in the way).
 */
export async function probeWritableDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const probe = join(directory, `.tributary-write-probe.${process.pid}.${randomBytes(8).toString('hex')}${TEMPORARY_SUFFIX}`);
  const handle = await open(probe, CREATE_NEW, STATE_FILE_MODE);
  await handle.close();
  await unlink(probe);
}
