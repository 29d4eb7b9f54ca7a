import { isUtf8 } from 'node:buffer';
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { EventIdScope } from '../../../shared/record/event-id.js';
import type { RawLogEvent } from '../../../shared/record/raw-event.js';
import { RawLogNdjsonWriter } from '../../../shared/record/raw-log-ndjson.js';
import type { BatchConsumer, DeliveryOutcome } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { AckTracker } from '../../checkpoint/ack-tracker.js';
import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import type { FileSourceConfig } from './config.js';
import { ContainerFormatStage } from './container/container-stage.js';
import { codecFor } from './encoding.js';
import { fingerprint, type FingerprintOptions } from './file-identity.js';
import type { LineRecord, LineStage } from './line-stage.js';
import { LineSplitter } from './line-splitter.js';
import { MultilineStage } from './multiline/multiline-stage.js';
import type { OpenFileLimiter } from './open-file-limiter.js';

export interface TailerContext {
  sourceName: string;
  config: FileSourceConfig;
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  checkpoints: CheckpointStore;
  metrics: ComponentMetrics;
  logger: Logger;
  limiter: OpenFileLimiter;
  fingerprint: FingerprintOptions;
}

/**
 * Lines of one read are handed downstream in batches of about this many NDJSON
 * bytes: big enough that per-batch costs vanish, small enough that the batch
 * text stays a regular V8 string (strings over 128 KiB are allocated in the
 * large-object space, several times slower per byte).
 */
const BATCH_TARGET_BYTES = 56 * 1024;
/** Bytes a tailer reads in one go before giving its descriptor slot to a waiting file. */
const FAIR_SHARE_BYTES = 4 * 1024 * 1024;

interface PendingBatch {
  ndjson: string;
  eventCount: number;
  /** Where reading resumes after a crash once this batch is delivered. */
  resumeOffset: number;
}

/** On an event whose line had no newline when its file was finished (rotated away or deleted). */
export const UNTERMINATED_ATTRIBUTE = 'tributary.unterminated';

type FileState = 'growing' | 'truncated' | 'rewritten' | 'moved' | 'deleted';

/**
 * Follows one file (one identity) from an offset: reads chunks, splits lines,
 * runs the optional stages (container format, multiline), hands batches
 * downstream (waiting when downstream is full: the backpressure), and registers
 * each batch with its AckTracker, the only way the checkpoint moves: across the
 * delivered prefix, never past a batch refused for good.
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
  private lastLineEnd: number;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private stopped = false;
  private readonly splitter: LineSplitter;
  private readonly stages: LineStage[] = [];
  private readonly multiline: MultilineStage | undefined;
  private readonly container: ContainerFormatStage | undefined;
  private readonly statsSeen = { recordsCut: 0, linesDropped: 0, malformed: 0, partialsDropped: 0 };
  /** Fast path: serializes straight from the read buffer when no stage needs decoded text. */
  private readonly writer: RawLogNdjsonWriter | undefined;
  private readonly ids: EventIdScope;
  private readonly key: string;
  private readonly batches: PendingBatch[] = [];
  private truncatedLines = 0;
  private invalidLines = 0;
  private chunkIsValidUtf8 = true;
  finished: Promise<void> = Promise.resolve();

  constructor(
    readonly identity: string,
    /** The path discovery found (events carry it), and the real path behind it, the only one opened (O_NOFOLLOW). */
    readonly path: string,
    private readonly realPath: string,
    startOffset: number,
    private readonly context: TailerContext,
    private readonly labels: Record<string, string> | undefined,
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
    this.lastLineEnd = startOffset;
    this.splitter = new LineSplitter(config.max_line_bytes, codecFor(config.encoding));
    if (config.format !== 'none') {
      this.container = new ContainerFormatStage(config.format, config.max_line_bytes);
      this.stages.push(this.container);
    }
    if (config.multiline) {
      this.multiline = new MultilineStage(config.multiline);
      this.stages.push(this.multiline);
    }
    this.ids = new EventIdScope([context.agentId, identity]);
    this.key = `${context.host}:${path}`;
    if (this.stages.length === 0 && config.encoding === 'utf-8') {
      this.writer = new RawLogNdjsonWriter(
        { host: context.host, agentId: context.agentId, sourceName: context.sourceName, path, fileId: identity, labels },
        this.ids,
      );
    }
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
        await this.emitRecords(this.flushStages(false));
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
          await this.emitRecords(this.flushStages(true, this.takeUnterminatedLine()));
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
    await this.emitRecords(this.flushStages(true));
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
    this.truncatedLines = 0;
    this.invalidLines = 0;
    this.chunkIsValidUtf8 = this.context.config.encoding !== 'utf-8' || isUtf8(chunk);
    if (this.writer) {
      this.writer.startChunk(new Date().toISOString());
      this.splitter.forEachLine(chunk, chunkOffset, this.addLine);
      if (this.writer.eventCount > 0) this.cutBatch(this.writer.eventCount, this.writer.take(), this.lastLineEnd);
      this.writer.finishChunk();
    } else {
      const lines: LineRecord[] = this.splitter.push(chunk, chunkOffset);
      for (const line of lines) {
        if (line.truncated) this.truncatedLines++;
        if (line.invalid) this.invalidLines++;
      }
      if (lines.length > 0) this.lastLineEnd = (lines[lines.length - 1] as LineRecord).end;
      let records = lines;
      for (const stage of this.stages) records = stage.push(records, Date.now());
      this.serializeRecords(records);
    }
    this.countStageStats();
    const { metrics } = this.context;
    if (this.truncatedLines > 0) metrics.truncated.inc(this.truncatedLines);
    if (this.invalidLines > 0) metrics.invalidText.inc(this.invalidLines);
    metrics.bytesIn.inc(chunk.length);
    await this.handDownstream();
  }

  /** The fast path's line visitor: serializes straight from the read buffer, cutting batches as they fill. */
  private readonly addLine = (bytes: Buffer, start: number, end: number, offset: number, lineEnd: number, truncated: boolean): void => {
    const writer = this.writer as RawLogNdjsonWriter;
    writer.add(bytes, start, end, offset, truncated);
    this.lastLineEnd = lineEnd;
    if (truncated) this.truncatedLines++;
    if (!this.chunkIsValidUtf8 && !isUtf8(bytes.subarray(start, end))) this.invalidLines++;
    if (writer.byteLength >= BATCH_TARGET_BYTES) this.cutBatch(writer.eventCount, writer.take(), lineEnd);
  };

  private cutBatch(eventCount: number, ndjson: string, resumeOffset: number): void {
    this.batches.push({ ndjson, eventCount, resumeOffset });
  }

  /** Where a restart must resume: before any line a stage still holds. */
  private resumeOffset(): number {
    let resume = this.lastLineEnd;
    for (const stage of this.stages) {
      const pending = stage.pendingOffset();
      if (pending !== undefined && pending < resume) resume = pending;
    }
    return resume;
  }

  /**
   * A last line the file will never finish (it was rotated away or deleted and has not grown for `rotate_wait`):
   * emitted rather than dropped with the tailer, flagged `truncated` (it may have been cut short: a writer that died
   * mid-line) with the attribute `tributary.unterminated`, and counted as truncated. Not for copytruncate: the
   * rotated copy holds the same bytes and its tailer finishes them.
   */
  private takeUnterminatedLine(): LineRecord | undefined {
    const line = this.splitter.takePartial(this.readOffset);
    if (!line) return undefined;
    this.lastLineEnd = line.end;
    this.context.metrics.truncated.inc();
    if (line.invalid) this.context.metrics.invalidText.inc();
    this.context.logger.info({ path: this.path, file_id: this.identity, offset: line.offset }, 'last line of a finished file had no newline; emitted flagged');
    return { ...line, truncated: true, attributes: { [UNTERMINATED_ATTRIBUTE]: 'true' } };
  }

  /** `last`, a final record for the first stage, is flushed with everything the stages hold (`everything` only). */
  private flushStages(everything: boolean, last?: LineRecord): LineRecord[] {
    let records: LineRecord[] = last ? [last] : [];
    const now = Date.now();
    // Each stage's output feeds the next; what a stage flushes still passes through the later ones.
    for (const stage of this.stages) {
      const passed = records.length > 0 ? stage.push(records, now) : [];
      records = [...passed, ...(everything ? stage.flushAll() : stage.flushDue(now))];
    }
    this.countStageStats();
    // Stages rebuild records (CRI envelopes, multiline joins): the record holding the unterminated bytes keeps the mark.
    if (last) {
      for (const record of records) if (record.end === last.end) record.attributes = { ...record.attributes, [UNTERMINATED_ATTRIBUTE]: 'true' };
    }
    return records;
  }

  private async emitRecords(records: LineRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.serializeRecords(records);
    await this.handDownstream();
  }

  /** The general path (stages, other encodings): events built as objects, JSON.stringify'd. */
  private serializeRecords(records: readonly LineRecord[]): void {
    if (records.length === 0) return;
    const observedAt = new Date().toISOString();
    const { agentId, host, sourceName } = this.context;
    let ndjson = '';
    let count = 0;
    for (const record of records) {
      const event: RawLogEvent & { truncated?: true; time?: string; attributes?: Record<string, string> } = {
        id: this.ids.id(record.offset),
        observed_at: observedAt,
        body: record.text,
        host,
        agent_id: agentId,
        source: { type: 'file', name: sourceName, path: this.path, file_id: this.identity, offset: record.offset },
      };
      if (this.labels) event.labels = this.labels;
      if (record.truncated) event.truncated = true;
      if (record.time !== undefined) event.time = record.time;
      if (record.attributes) event.attributes = record.attributes;
      ndjson += `${JSON.stringify(event)}\n`;
      count++;
      if (ndjson.length >= BATCH_TARGET_BYTES) {
        this.cutBatch(count, ndjson, this.resumeOffset());
        ndjson = '';
        count = 0;
      }
    }
    if (count > 0) this.cutBatch(count, ndjson, this.resumeOffset());
  }

  private countStageStats(): void {
    const { metrics } = this.context;
    const seen = this.statsSeen;
    if (this.multiline) {
      const { recordsCut, linesDropped } = this.multiline.stats;
      if (recordsCut > seen.recordsCut) metrics.truncated.inc(recordsCut - seen.recordsCut);
      if (linesDropped > seen.linesDropped) metrics.drop('oversize', linesDropped - seen.linesDropped);
      seen.recordsCut = recordsCut;
      seen.linesDropped = linesDropped;
    }
    if (this.container) {
      const { malformed, partialsDropped } = this.container.stats;
      if (malformed > seen.malformed) metrics.error('decode', malformed - seen.malformed);
      if (partialsDropped > seen.partialsDropped) metrics.drop('oversize', partialsDropped - seen.partialsDropped);
      seen.malformed = malformed;
      seen.partialsDropped = partialsDropped;
    }
  }

  private async handDownstream(): Promise<void> {
    if (this.batches.length === 0) return;
    const batches = this.batches.splice(0);
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
    for (const stage of this.stages) {
      const deadline = stage.nextDeadline();
      if (deadline !== undefined) wait = Math.max(0, Math.min(wait, deadline - Date.now()));
    }
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
