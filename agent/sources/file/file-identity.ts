import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

export type FingerprintStrategy = 'checksum' | 'device_inode';

export interface FingerprintOptions {
  strategy: FingerprintStrategy;
  /** The first line is fingerprinted up to this many bytes. */
  maxBytes: number;
  /** Bytes skipped before fingerprinting, for files that all start with the same header. */
  ignoredHeaderBytes: number;
}

/**
 * Which file is this, whatever its path? The default `checksum` strategy (the
 * approach of Vector's file source) hashes the file's first line, up to
 * `maxBytes`:
 * - a rename (logrotate's default) keeps the content, so the file keeps its
 *   identity and its checkpoint;
 * - a copy (copytruncate's `app.log.1`) has the same first line, so when the
 *   globs include it, reading resumes where the original stopped instead of
 *   starting over;
 * - a new file that reuses a deleted file's inode number has a different first
 *   line (logs begin with a timestamp), so it is not mistaken for the old one,
 *   which is what inode-only schemes get wrong;
 * - copytruncate rewrites the first line, so the truncated file is a new file.
 * The first line of an append-only file never changes once written, so the
 * identity, and every event id derived from it, is the same after a restart.
 * Until the first line is complete (or `maxBytes` long) the identity is
 * unknown and the file waits; no event could be emitted from it before anyway.
 *
 * Known limitation: files whose first lines are identical (a fixed header) are
 * one file to this strategy; set `ignoredHeaderBytes` or use `device_inode`.
 */
export async function fingerprint(handle: FileHandle, options: FingerprintOptions): Promise<string | undefined> {
  if (options.strategy === 'device_inode') {
    const stats = await handle.stat({ bigint: true });
    return `i${stats.dev.toString(16)}.${stats.ino.toString(16)}`;
  }
  const buffer = Buffer.alloc(options.maxBytes);
  const { bytesRead } = await handle.read(buffer, 0, options.maxBytes, options.ignoredHeaderBytes);
  const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
  let length: number;
  if (newline !== -1) length = newline + 1;
  else if (bytesRead === options.maxBytes) length = bytesRead;
  else return undefined;
  return `c${createHash('sha256').update(buffer.subarray(0, length)).digest('hex').slice(0, 32)}`;
}

export async function deviceInode(handle: FileHandle): Promise<string> {
  const stats = await handle.stat({ bigint: true });
  return `${stats.dev}:${stats.ino}`;
}

export const DEFAULT_FINGERPRINT: FingerprintOptions = { strategy: 'checksum', maxBytes: 1024, ignoredHeaderBytes: 0 };

/** The identity of the file at `path` as the file source computes it with default settings. */
export async function fingerprintOfPath(path: string, options: FingerprintOptions = DEFAULT_FINGERPRINT): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    return await fingerprint(handle, options);
  } finally {
    await handle.close();
  }
}
