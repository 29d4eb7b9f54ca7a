import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TributaryError, errorMessage } from '../../shared/errors.js';
import { removeStaleTemporaries, replaceFileAtomically } from './atomic-file.js';

export interface CheckpointEntry {
  path: string;
  /** Every byte before this offset is acknowledged by Kafka. */
  offset: number;
  updated_at: string;
  /** When discovery last saw a file with this identity (ms since the epoch); drives expiry. */
  seen_at?: number;
}

interface CheckpointFileV1 {
  version: 1;
  files: Record<string, CheckpointEntry>;
}

/**
 * Persistent file identity → acknowledged offset. Written atomically
 * (a fresh exclusively-created temp file, fsync, rename, fsync of the
 * directory), so a crash at any instant leaves either the old or the new
 * registry, never a torn one.
 */
export class CheckpointStore {
  private readonly entries = new Map<string, CheckpointEntry>();
  private dirty = false;
  private lastWrite = Date.now();
  /** The tail of the write queue; it never rejects, so one failed write cannot fail the writes after it. */
  private queueTail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  static forDataDir(dataDir: string): CheckpointStore {
    return new CheckpointStore(join(dataDir, 'checkpoints.json'));
  }

  async load(): Promise<void> {
    // Temporaries of writes a crash interrupted; unique names mean nothing else would ever remove them.
    await removeStaleTemporaries(this.file);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new TributaryError('CONFIG_UNREADABLE', `cannot read checkpoint file ${this.file}: ${errorMessage(error)}`, { cause: error });
    }
    let parsed: Partial<Omit<CheckpointFileV1, 'version'>> & { version?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (error) {
      throw new TributaryError('CONFIG_UNREADABLE', `checkpoint file ${this.file} is not valid JSON; move it away to start over`, { cause: error });
    }
    if (parsed.version !== 1) throw new TributaryError('CONFIG_UNREADABLE', `checkpoint file ${this.file} has unknown version ${String(parsed.version)}`);
    for (const [fileId, entry] of Object.entries(parsed.files ?? {})) this.entries.set(fileId, entry);
  }

  get(fileId: string): CheckpointEntry | undefined {
    return this.entries.get(fileId);
  }

  /** Acknowledgements arrive in order per file, so the offset only moves forward. */
  advance(fileId: string, path: string, offset: number): void {
    const current = this.entries.get(fileId);
    if (current && current.offset >= offset && current.path === path) return;
    this.entries.set(fileId, { path, offset: Math.max(offset, current?.offset ?? 0), updated_at: new Date().toISOString(), seen_at: Date.now() });
    this.dirty = true;
  }

  /** Discovery found a file with this identity: its entry is not stale. */
  markSeen(fileId: string, nowMs = Date.now()): void {
    const entry = this.entries.get(fileId);
    if (entry) entry.seen_at = nowMs;
  }

  /**
   * Forgets files not seen for `ttlMs` (deleted or rotated away for good), so the
   * registry does not grow forever on hosts that create and delete many files.
   * Entries of files still being read are kept whatever their age.
   */
  expire(ttlMs: number, isActive: (fileId: string) => boolean, nowMs = Date.now()): string[] {
    const expired: string[] = [];
    for (const [fileId, entry] of this.entries) {
      const lastSeen = entry.seen_at ?? Date.parse(entry.updated_at);
      if (nowMs - lastSeen > ttlMs && !isActive(fileId)) {
        this.entries.delete(fileId);
        expired.push(fileId);
      }
    }
    if (expired.length > 0) this.dirty = true;
    return expired;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Restarts a file from zero (truncation detected). */
  reset(fileId: string, path: string): void {
    this.entries.set(fileId, { path, offset: 0, updated_at: new Date().toISOString() });
    this.dirty = true;
  }

  get secondsSinceWrite(): number {
    return (Date.now() - this.lastWrite) / 1000;
  }

  /**
   * Writes when something changed; concurrent calls are serialized. The returned promise reports this
   * write's outcome; a failure leaves the registry dirty, so the next flush writes it again.
   */
  flush(): Promise<void> {
    const write = this.queueTail.then(() => this.writeIfDirty());
    this.queueTail = write.catch(() => undefined);
    return write;
  }

  private async writeIfDirty(): Promise<void> {
    if (!this.dirty) {
      this.lastWrite = Date.now();
      return;
    }
    this.dirty = false;
    const snapshot: CheckpointFileV1 = { version: 1, files: Object.fromEntries(this.entries) };
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await replaceFileAtomically(this.file, `${JSON.stringify(snapshot, null, 1)}\n`, { fsync: true });
      this.lastWrite = Date.now();
    } catch (error) {
      this.dirty = true;
      throw new TributaryError('INTERNAL', `cannot write checkpoint file ${this.file}: ${errorMessage(error)}`, { cause: error, retriable: true });
    }
  }
}
