import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BatchConsumer, DeliveryOutcome } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { AckTracker } from '../../checkpoint/ack-tracker.js';
import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import type { FileSourceConfig } from './config.js';
import { codecFor } from './encoding.js';
import { fingerprint, type FingerprintOptions } from './file-identity.js';
import { LineBatcher } from './line-batcher.js';
import type { Semaphore } from '../../../shared/pipeline/semaphore.js';
import type { StatusRow } from '../../../shared/telemetry/status.js';

export interface TailerContext {
  sourceName: string;
  config: FileSourceConfig;
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  checkpoints: CheckpointStore;
  metrics: ComponentMetrics;
  logger: Logger;
  /** The `max_open_files` slots: a descriptor is held only within one. */
  limiter: Semaphore;
  fingerprint: FingerprintOptions;
}

/** Bytes a tailer reads in one go before giving its descriptor slot to a waiting file. */
const FAIR_SHARE_BYTES = 4 * 1024 * 1024;

type FileState = 'growing' | 'truncated' | 'rewritten' | 'moved' | 'deleted';

/**
 * Follows one file (one identity) from an offset: reads chunks, has its
 * LineBatcher turn them into batches of events (lines, stages, serialization),
 * hands batches downstream (waiting when downstream is full: the backpressure),
 * and registers each batch with its AckTracker, the only way the checkpoint
 * moves: across the delivered prefix, never past a batch refused for good.
 *
 * Rotation: when the path stops pointing at this file (rename-and-create) or
 * the file is deleted, the open descriptor is read on until it has not grown
 * for `rotate_wait`, so lines a writer adds before reopening are not lost.
 * When the file shrinks or its first line changes (copytruncate), what it held
 * is gone from this inode; the tailer ends and discovery finds the new content
 * as a new file.
 */
export class FileTailer {
  private handle: FileHandle | undefined;
  private deviceInode = '';
  private readOffset: number;
  private fileSize = 0;
  /** The only path from delivery outcomes to this file's checkpoint (in order, held at a refused batch). */
  private readonly acks: AckTracker;
  private lastGrowthAt = Date.now();
  /** When the path was first seen no longer holding this file (renamed or deleted), while it is so. */
  private goneSince: number | undefined;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private stopped = false;
  private readonly lines: LineBatcher;
  private readonly key: string;
  finished: Promise<void> = Promise.resolve();

  constructor(
    readonly identity: string,
    /** The path discovery found (events carry it), and the real path behind it, the only one opened (O_NOFOLLOW). */
    readonly path: string,
    private readonly realPath: string,
    startOffset: number,
    private readonly context: TailerContext,
    labels: Record<string, string> | undefined,
  ) {
    const { config } = context;
    this.readOffset = startOffset;
    this.acks = context.checkpoints.track(identity, path, startOffset, {
      onCommit: ({ events }) => context.metrics.eventsOut.inc(events),
      onHeld: ({ start, end, reason }) =>
        context.logger.warn(
          { path, file_id: identity, offset: start, batch_end: end, reason },
          'a batch was refused for good (counted as dropped); the checkpoint stays before it, so a restart reads it again',
        ),
    });
    this.lines = new LineBatcher(
      { sourceName: context.sourceName, agentId: context.agentId, host: context.host, path, identity, labels },
      config,
      context.metrics,
      startOffset,
    );
    this.key = `${context.host}:${path}`;
  }

  start(): void {
    this.finished = this.run().catch((error: unknown) => {
      this.context.metrics.error('io');
      this.context.logger.error({ path: this.path, file_id: this.identity, err: error }, 'tailing stopped on error');
    });
  }

  /** Called on a file-system event: read now instead of at the next poll. */
  wake(): void {
    this.wakePending = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.finished;
  }

  /** A method, so type narrowing does not assume the flag cannot change across awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  get lagBytes(): number {
    return Math.max(0, this.fileSize - this.acks.committed);
  }

  /** One row of the status page's file table: where reading and acknowledgement stand, and the rotation state. */
  statusRow(): StatusRow {
    const state = this.goneSince !== undefined ? 'rotated: draining' : this.handle === undefined ? 'waiting for a descriptor' : 'active';
    return {
      source: this.context.sourceName,
      path: this.path,
      file_id: this.identity.slice(0, 16),
      state,
      size: this.fileSize,
      read_offset: this.readOffset,
      acked_offset: this.acks.committed,
      lag_bytes: this.lagBytes,
      idle_seconds: Math.round((Date.now() - this.lastGrowthAt) / 1000),
    };
  }

  private async run(): Promise<void> {
    if (!(await this.acquireAndOpen())) return;
    const chunkBytes = this.context.config.read_chunk_bytes;
    const twoByteUnits = codecFor(this.context.config.encoding).newlineBytes === 2;
    let buffer: Buffer | undefined;
    let sinceYield = 0;
    try {
      while (!this.stopped) {
        const handle = this.handle as FileHandle;
        // Held only while there is something to read: idle tailers keep no read buffer.
        buffer ??= Buffer.allocUnsafeSlow(chunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.readOffset);
        // An odd trailing byte of UTF-16 waits for its other half, so newline units never straddle reads.
        const usable = twoByteUnits ? bytesRead & ~1 : bytesRead;
        // Every read follows a wait (for Kafka's backpressure in consumeChunk, an idle poll, or just other work on
        // the event loop), and copytruncate followed by writes past `readOffset` can land in any of them: the bytes
        // just read would then be the middle of the new content. Verified after the read, so bytes are consumed
        // (and a checkpoint advanced past them) only when they belonged to this file when they were read.
        if (usable > 0 && !(await this.stillThisFile(handle))) {
          await this.endReplaced('rewritten');
          return;
        }
        if (usable > 0) {
          this.lastGrowthAt = Date.now();
          await this.consumeChunk(buffer.subarray(0, usable));
          sinceYield += usable;
          if (sinceYield >= FAIR_SHARE_BYTES && this.context.limiter.hasWaiters) {
            sinceYield = 0;
            buffer = undefined;
            this.closeAndRelease();
            if (!(await this.acquireAndOpen())) return;
          }
          continue;
        }
        buffer = undefined;
        sinceYield = 0;
        this.lines.flush(false);
        await this.handDownstream();
        const state = await this.inspect(handle);
        if (state === 'truncated' || state === 'rewritten') {
          await this.endReplaced(state);
          return;
        }
        // rotate_wait counts from the later of the last growth and the moment the rotation or deletion was first
        // seen: a writer may finish its last line just after the rename even when the file had been quiet for long.
        if (state === 'growing') this.goneSince = undefined;
        else this.goneSince ??= Date.now();
        if (this.goneSince !== undefined && Date.now() - Math.max(this.lastGrowthAt, this.goneSince) >= this.context.config.rotate_wait) {
          const unterminated = this.lines.flush(true, this.readOffset);
          if (unterminated !== undefined) {
            this.context.logger.info(
              { path: this.path, file_id: this.identity, offset: unterminated },
              'last line of a finished file had no newline; emitted flagged',
            );
          }
          await this.handDownstream();
          this.context.logger.info({ path: this.path, file_id: this.identity, state }, 'rotated or deleted file read to its end');
          return;
        }
        // At end of file a descriptor is only worth keeping when no other file waits for one.
        if (this.context.limiter.hasWaiters) this.closeAndRelease();
        await this.idle();
        if (!this.handle && !this.isStopped() && !(await this.acquireAndOpen())) return;
      }
    } finally {
      this.closeAndRelease();
    }
  }

  /**
   * Whether the file behind `handle` still starts with this identity's first line (only `checksum` can tell;
   * `device_inode` cannot see a rewrite in place). Refreshes the file's size on the way, so the lag gauge is right
   * while the tailer is behind, not only at end of file.
   */
  private async stillThisFile(handle: FileHandle): Promise<boolean> {
    const checksum = this.context.fingerprint.strategy === 'checksum';
    const [stats, seen] = await Promise.all([handle.stat(), checksum ? fingerprint(handle, this.context.fingerprint) : undefined]);
    this.fileSize = stats.size;
    return !checksum || seen === this.identity;
  }

  /** The size of the file at this tailer's path as discovery saw it: keeps the lag gauge current while a read waits for Kafka. */
  observeSize(deviceInode: string, size: number): void {
    if (deviceInode === this.deviceInode) this.fileSize = size;
  }

  /** What this file held is gone from its inode (copytruncate): emit what the stages hold; discovery reads the new content as a new file. */
  private async endReplaced(state: 'truncated' | 'rewritten'): Promise<void> {
    this.lines.flush(true);
    await this.handDownstream();
    this.context.logger.info(
      { path: this.path, file_id: this.identity, state, offset: this.readOffset },
      'file truncated or rewritten (copytruncate); its new content is a new file',
    );
  }

  /** Takes a descriptor slot and opens the path, if it still holds this file. */
  private async acquireAndOpen(): Promise<boolean> {
    await this.context.limiter.acquire();
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
      const seen = await fingerprint(handle, this.context.fingerprint);
      if (seen !== this.identity) throw new Error('the path holds another file now');
      const stats = await handle.stat({ bigint: true });
      this.deviceInode = `${stats.dev}:${stats.ino}`;
      this.fileSize = Number(stats.size);
      this.handle = handle;
      return true;
    } catch (error) {
      await handle?.close();
      this.context.limiter.release();
      // Rotated away while we held no descriptor: discovery resumes it from the checkpoint if the globs include its new name.
      this.context.logger.debug({ path: this.path, file_id: this.identity, err: error }, 'file no longer at its path');
      return false;
    }
  }

  private closeAndRelease(): void {
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    void handle.close();
    this.context.limiter.release();
  }

  private async inspect(handle: FileHandle): Promise<FileState> {
    const stats = await handle.stat({ bigint: true });
    this.fileSize = Number(stats.size);
    if (this.fileSize < this.readOffset) return 'truncated';
    // copytruncate followed by fast writes can leave the file longer than our offset: the first line tells.
    if (this.context.fingerprint.strategy === 'checksum' && (await fingerprint(handle, this.context.fingerprint)) !== this.identity) return 'rewritten';
    try {
      const current = await stat(this.realPath, { bigint: true });
      return `${current.dev}:${current.ino}` === this.deviceInode ? 'growing' : 'moved';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'deleted';
      throw error;
    }
  }

  private async consumeChunk(chunk: Buffer): Promise<void> {
    const chunkOffset = this.readOffset;
    this.readOffset += chunk.length;
    this.lines.addChunk(chunk, chunkOffset);
    this.context.metrics.bytesIn.inc(chunk.length);
    await this.handDownstream();
  }

  private async handDownstream(): Promise<void> {
    const batches = this.lines.takeBatches();
    if (batches.length === 0) return;
    for (const { eventCount } of batches) this.context.metrics.eventsIn.inc(eventCount);
    for (const pending of batches) {
      const { eventCount, resumeOffset } = pending;
      // Registered before it goes downstream, so its acknowledgement always finds it. Outcomes may come in any
      // order and may be failures: the tracker (agent/checkpoint/ack-tracker.ts) decides what the checkpoint passes.
      const acknowledge = this.acks.register(resumeOffset, eventCount);
      const batch = {
        key: this.key,
        schema: 'raw.log.v1' as const,
        ndjson: pending.ndjson,
        eventCount,
        onDelivered: (outcome: DeliveryOutcome) => acknowledge(outcome),
      };
      await this.context.consumer.consume(batch);
      // Accepted: the framer has the text. The batch object stays referenced until Kafka acknowledges it
      // (for its callback), so let go of the text now rather than hold it while the broker lags.
      batch.ndjson = '';
    }
  }

  private idle(): Promise<void> {
    if (this.wakePending || this.stopped) {
      this.wakePending = false;
      return Promise.resolve();
    }
    let wait = this.context.config.poll_interval;
    const deadline = this.lines.nextDeadline();
    if (deadline !== undefined) wait = Math.max(0, Math.min(wait, deadline - Date.now()));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.wakeUp = done;
    });
  }
}
