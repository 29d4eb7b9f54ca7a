import type { FileHandle } from 'node:fs/promises';

/**
 * Identity of a file, independent of its path, so a rename (logrotate's
 * default) keeps its checkpoint. Device and inode number for now; the
 * file-tailing work replaces this with a content fingerprint that also tells a
 * new file from an old one when an inode number is reused.
 */
export async function fileIdentity(handle: FileHandle): Promise<{ fileId: string; size: number; inode: number }> {
  const stats = await handle.stat({ bigint: true });
  return { fileId: `${stats.dev}:${stats.ino}`, size: Number(stats.size), inode: Number(stats.ino) };
}
