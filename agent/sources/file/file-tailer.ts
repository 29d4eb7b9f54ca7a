import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RawLogEvent } from '../../../shared/record/raw-event.js';
import { eventId } from '../../../shared/record/event-id.js';
import type { BatchConsumer } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import type { FileSourceConfig } from './config.js';
import { fileIdentity } from './file-identity.js';
import { LineSplitter } from './line-splitter.js';

export interface TailerContext {
  sourceName: string;
  config: FileSourceConfig;
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  checkpoints: CheckpointStore;
  metrics: ComponentMetrics;
  logger: Logger;
}

/**
 * Follows one file from an offset: reads chunks, splits lines, hands batches
 * downstream (waiting when downstream is full, which is the backpressure), and
 * advances the checkpoint only from delivery callbacks.
 */
export class FileTailer {
  private handle: FileHandle | undefined;
  private fileId = '';
  private readOffset = 0;
  private fileSize = 0;
  private acknowledgedOffset = 0;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private stopped = false;
  private readonly splitter: LineSplitter;
  private readonly labels: Record<string, string> | undefined;
  finished: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly context: TailerContext,
    private readonly startAtEnd: boolean,
  ) {
    this.splitter = new LineSplitter(context.config.max_line_bytes);
    this.labels = Object.keys(context.config.labels).length > 0 ? context.config.labels : undefined;
  }

  /** Opens the file and starts following it; resolves once the starting offset is known. */
  async start(): Promise<void> {
    this.handle = await open(this.path, 'r');
    const { fileId, size } = await fileIdentity(this.handle);
    this.fileId = fileId;
    this.fileSize = size;
    const checkpoint = this.context.checkpoints.get(fileId);
    if (checkpoint && checkpoint.offset <= size) this.readOffset = checkpoint.offset;
    else if (checkpoint)
      this.readOffset = 0; // shorter than what we acknowledged: truncated while we were away
    else this.readOffset = this.startAtEnd ? size : 0;
    this.acknowledgedOffset = this.readOffset;
    this.context.logger.info({ path: this.path, file_id: fileId, offset: this.readOffset, resumed: checkpoint !== undefined }, 'tailing file');
    this.finished = this.follow().catch((error: unknown) => {
      this.context.metrics.error('io');
      this.context.logger.error({ path: this.path, err: error }, 'tailing stopped on error');
    });
  }

  /** Called on a file-system change event: read now instead of at the next poll. */
  wake(): void {
    this.wakePending = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.finished;
  }

  get lagBytes(): number {
    return Math.max(0, this.fileSize - this.acknowledgedOffset);
  }

  private async follow(): Promise<void> {
    const handle = this.handle as FileHandle;
    const buffer = Buffer.allocUnsafe(this.context.config.read_chunk_bytes);
    try {
      while (!this.stopped) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.readOffset);
        if (bytesRead > 0) {
          await this.emitLines(buffer.subarray(0, bytesRead));
          continue;
        }
        if (await this.replacedOrTruncated(handle)) break;
        await this.idle();
      }
    } finally {
      await handle.close();
    }
  }

  private async emitLines(chunk: Buffer): Promise<void> {
    const chunkOffset = this.readOffset;
    this.readOffset += chunk.length;
    const lines = this.splitter.push(chunk, chunkOffset);
    if (lines.length === 0) return;
    const { sourceName, agentId, host, metrics } = this.context;
    const observedAt = new Date().toISOString();
    const source = { type: 'file' as const, name: sourceName, path: this.path, file_id: this.fileId };
    let ndjson = '';
    let truncated = 0;
    for (const line of lines) {
      const event: RawLogEvent & { truncated?: true } = {
        id: eventId(agentId, this.fileId, line.offset),
        observed_at: observedAt,
        body: line.text,
        host,
        agent_id: agentId,
        source: { ...source, offset: line.offset },
      };
      if (this.labels) event.labels = this.labels;
      if (line.truncated) {
        event.truncated = true;
        truncated++;
      }
      ndjson += `${JSON.stringify(event)}\n`;
    }
    if (truncated > 0) metrics.truncated.inc(truncated);
    metrics.eventsIn.inc(lines.length);
    metrics.bytesIn.inc(chunk.length);
    const endOffset = (lines[lines.length - 1] as (typeof lines)[number]).end;
    const fileId = this.fileId;
    const eventCount = lines.length;
    await this.context.consumer.consume({
      key: `${host}:${this.path}`,
      schema: 'raw.log.v1',
      ndjson,
      eventCount,
      onDelivered: () => {
        this.acknowledgedOffset = endOffset;
        this.context.checkpoints.advance(fileId, this.path, endOffset);
        metrics.eventsOut.inc(eventCount);
      },
    });
  }

  /**
   * At end of file: a shorter file means copytruncate (start over at 0); a
   * different file at our path means rename-and-create, and since we just
   * read our descriptor to its end, this tailer is done.
   */
  private async replacedOrTruncated(handle: FileHandle): Promise<boolean> {
    const { size } = await fileIdentity(handle);
    this.fileSize = size;
    if (size < this.readOffset) {
      this.context.logger.info({ path: this.path, file_id: this.fileId, size, offset: this.readOffset }, 'file truncated; reading from the start');
      this.readOffset = 0;
      this.splitter.reset();
      this.context.checkpoints.reset(this.fileId, this.path);
      return false;
    }
    try {
      const current = await stat(this.path, { bigint: true });
      if (`${current.dev}:${current.ino}` !== this.fileId) {
        this.context.logger.info({ path: this.path, file_id: this.fileId, file: basename(this.path) }, 'file replaced at its path; finished the old one');
        return true;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    return false;
  }

  private idle(): Promise<void> {
    if (this.wakePending || this.stopped) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, this.context.config.poll_interval);
      this.wakeUp = done;
    });
  }
}
