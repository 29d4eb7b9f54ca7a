import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import type { OutgoingRecord, RecordSink } from '../../../shared/pipeline/record-sink.js';
import { SerialQueue } from '../../../shared/pipeline/serial-queue.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FileOutputConfig } from './config.js';

/** The file operations the sink needs, injectable so tests can make writes short or fail (a full disk). */
export interface FileSinkIo {
  /** Writes `length` bytes of `data` from `offset` at the end of the file; resolves with the bytes actually written (maybe fewer). */
  write(handle: FileHandle, data: Buffer, offset: number, length: number): Promise<number>;
  truncate(handle: FileHandle, length: number): Promise<void>;
}

const nodeIo: FileSinkIo = {
  write: async (handle, data, offset, length) => (await handle.write(data, offset, length)).bytesWritten,
  truncate: (handle, length) => handle.truncate(length),
};

/** How far back start() looks for the end of the last complete line of a file left torn by a crash. */
const TAIL_READ_BYTES = 64 * 1024;

/**
 * Appends normalized records as NDJSON to a local file: the embedded default
 * output. Log and metric records share the file; each line's `schema` field
 * tells them apart (route them to separate file outputs with `match.record`
 * to keep them apart). Each batch is written whole followed by fdatasync, so a
 * crash never leaves a committed offset for records that are not on disk.
 *
 * A write may be short (a full disk writes what fits, then fails): the sink
 * writes until every byte of the batch is written, and if any write or the
 * fdatasync fails, the batch fails (not acknowledged; retried) and the file is
 * cut back to its length before the batch, so neither a torn line nor records
 * that were not acknowledged remain (if the cut itself fails, the next batch
 * makes it first). start() likewise cuts a torn last line a crash left.
 *
 * A replay after a crash may append a record again (a plain file cannot
 * deduplicate); the record ids make such repeats detectable.
 */
export class FileSink implements RecordSink {
  private handle: FileHandle | undefined;
  private readonly writing = new SerialQueue();
  /** The file's length before a batch that failed after writing part of itself, until it is cut back to it. */
  private cutBackTo: number | undefined;
  private readonly io: FileSinkIo;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly config: FileOutputConfig,
    private readonly metrics: ComponentMetrics,
    options: { io?: FileSinkIo } = {},
  ) {
    this.io = options.io ?? nodeIo;
  }

  async start(): Promise<void> {
    try {
      await mkdir(dirname(this.config.path), { recursive: true });
      this.handle = await open(this.config.path, 'a+');
      this.cutBackTo = await this.endOfLastLine(this.handle);
      await this.cutBack(this.handle);
    } catch (error) {
      throw new TributaryError('SINK_UNAVAILABLE', `file output ${this.id}: cannot open ${this.config.path}: ${errorMessage(error)}`, { cause: error });
    }
  }

  write(records: readonly OutgoingRecord[]): Promise<void> {
    // Batches from partitions processed concurrently are serialized so lines never interleave.
    return this.writing.run(() => this.append(records));
  }

  private async append(records: readonly OutgoingRecord[]): Promise<void> {
    const handle = this.handle;
    if (!handle) {
      // After stop the batch must stay uncommitted and be replayed, never dead-lettered as a permanent failure.
      if (this.stopped) throw new TributaryError('SHUTDOWN', `file output ${this.id} is stopped`, { retriable: true });
      throw new TributaryError('INTERNAL', `file output ${this.id} used before start()`);
    }
    if (records.length === 0) return;
    this.metrics.eventsIn.inc(records.length);
    let text = '';
    for (const record of records) text += `${record.json}\n`;
    const data = Buffer.from(text);
    const timer = this.metrics.requestDuration.startTimer();
    try {
      await this.cutBack(handle);
      this.cutBackTo = (await handle.stat()).size;
      // A write may be short (a full disk writes what fits): write the rest until all of it is written, or fail.
      for (let written = 0; written < data.length;) {
        const count = await this.io.write(handle, data, written, data.length - written);
        if (!(count > 0)) throw new Error(`wrote ${count} of ${data.length - written} bytes`);
        written += count;
      }
      if (this.config.fsync) await handle.datasync();
      this.cutBackTo = undefined;
    } catch (error) {
      this.metrics.error('io');
      // Not acknowledged, so not kept: the retry writes the batch again after the last complete record.
      await this.cutBack(handle).catch(() => undefined);
      throw new TributaryError('SINK_UNAVAILABLE', `file output ${this.id}: cannot write ${this.config.path}: ${errorMessage(error)}`, {
        cause: error,
        retriable: true,
      });
    } finally {
      timer();
    }
    this.metrics.eventsOut.inc(records.length);
    this.metrics.bytesOut.inc(data.length);
    this.metrics.batchesOut.inc();
  }

  /** Cuts the file back to where the failed batch began (no-op when nothing is pending or the file is already shorter). */
  private async cutBack(handle: FileHandle): Promise<void> {
    const length = this.cutBackTo;
    if (length === undefined) return;
    if ((await handle.stat()).size > length) {
      await this.io.truncate(handle, length);
      if (this.config.fsync) await handle.datasync();
    }
    this.cutBackTo = undefined;
  }

  /** The length of the file up to its last newline (where a line torn by a crash begins), or undefined when it ends complete. */
  private async endOfLastLine(handle: FileHandle): Promise<number | undefined> {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.min(TAIL_READ_BYTES, size));
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - buffer.length);
      const { bytesRead } = await handle.read(buffer, 0, end - start, start);
      const chunk = buffer.subarray(0, bytesRead);
      if (end === size && chunk.at(-1) === 0x0a) return undefined;
      const newline = chunk.lastIndexOf(0x0a);
      if (newline >= 0) return start + newline + 1;
      end = start;
    }
    return size === 0 ? undefined : 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.writing.idle();
    await this.handle?.close();
    this.handle = undefined;
  }
}
