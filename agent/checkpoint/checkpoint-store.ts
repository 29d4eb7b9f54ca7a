import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TributaryError, errorMessage } from '../../shared/errors.js';
import { SerialQueue } from '../../shared/pipeline/serial-queue.js';
import { AckTracker, type AckTrackerCallbacks } from './ack-tracker.js';
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
  /**
   * Per file, the oldest stream whose commits still count: streams opened before a file was restarted
   * below its checkpoint (truncated) read content that is gone. Memory only; a restart opens new streams.
   */
  private readonly oldestValidStream = new Map<string, number>();
  private streams = 0;
  private dirty = false;
  private lastWrite = Date.now();
  /** Writes one at a time; a failed write rejects only its own flush, never the ones queued behind it. */
  private readonly writes = new SerialQueue();

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

  /**
   * Opens the acknowledgement path of one read stream of `fileId` (a tailer reading it from `start`): the
   * returned tracker moves this checkpoint to the end of its contiguous delivered prefix, and nothing else
   * moves it forward. `callbacks` see the same commits (for metrics) and a range held by a failure.
   *
   * Several streams of one file may overlap: a rotated file is resumed from its acknowledged checkpoint
   * while the stream that read it before still has ranges in flight. Each stream starts at or below the
   * checkpoint it found, so the union of their delivered prefixes is itself a prefix, and the checkpoint is
   * the furthest of them; a stream that is behind another never moves it back. A stream that starts
   * *below* the checkpoint (the file was truncated while nobody read it) restarts the file: the checkpoint
   * is reset to its start, and older streams, which read content that is gone, no longer move it.
   */
  track(fileId: string, path: string, start: number, callbacks: AckTrackerCallbacks = {}): AckTracker {
    const stream = ++this.streams;
    const current = this.entries.get(fileId);
    if (current && start < current.offset) {
      this.reset(fileId, path, start);
      this.oldestValidStream.set(fileId, stream);
    }
    return new AckTracker(start, {
      onCommit: (commit) => {
        if (stream >= (this.oldestValidStream.get(fileId) ?? 0)) this.advance(fileId, path, commit.offset);
        callbacks.onCommit?.(commit);
      },
      onHeld: (held) => callbacks.onHeld?.(held),
    });
  }

  /** Only trackers call this, with their contiguous delivered prefix; see `track` for why it never moves back. */
  private advance(fileId: string, path: string, offset: number): void {
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
        this.oldestValidStream.delete(fileId);
        expired.push(fileId);
      }
    }
    if (expired.length > 0) this.dirty = true;
    return expired;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Restarts a file from `offset` (truncation detected). */
  private reset(fileId: string, path: string, offset: number): void {
    this.entries.set(fileId, { path, offset, updated_at: new Date().toISOString(), seen_at: Date.now() });
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
    return this.writes.run(() => this.writeIfDirty());
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
