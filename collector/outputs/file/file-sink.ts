import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import type { OutgoingRecord, RecordSink } from '../../../shared/pipeline/record-sink.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FileOutputConfig } from './config.js';

/**
 * Appends normalized records as NDJSON to a local file: the embedded default
 * output. Log and metric records share the file; each line's `schema` field
 * tells them apart (route them to separate file outputs with `match.record`
 * to keep them apart). Each batch is one write followed by fdatasync, so a crash never
 * leaves a committed offset for records that are not on disk. A replay after a
 * crash may append a record again (a plain file cannot deduplicate); the
 * record ids make such repeats detectable.
 */
export class FileSink implements RecordSink {
  private handle: FileHandle | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    private readonly config: FileOutputConfig,
    private readonly metrics: ComponentMetrics,
  ) {}

  async start(): Promise<void> {
    try {
      await mkdir(dirname(this.config.path), { recursive: true });
      this.handle = await open(this.config.path, 'a');
    } catch (error) {
      throw new TributaryError('SINK_UNAVAILABLE', `file output ${this.id}: cannot open ${this.config.path}: ${errorMessage(error)}`, { cause: error });
    }
  }

  write(records: readonly OutgoingRecord[]): Promise<void> {
    // Batches from partitions processed concurrently are serialized so lines never interleave.
    const next = this.writing.then(() => this.append(records));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async append(records: readonly OutgoingRecord[]): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new TributaryError('INTERNAL', `file output ${this.id} used before start()`);
    if (records.length === 0) return;
    this.metrics.eventsIn.inc(records.length);
    let text = '';
    for (const record of records) text += `${record.json}\n`;
    const timer = this.metrics.requestDuration.startTimer();
    try {
      await handle.write(text);
      if (this.config.fsync) await handle.datasync();
    } catch (error) {
      this.metrics.error('io');
      throw new TributaryError('SINK_UNAVAILABLE', `file output ${this.id}: cannot write ${this.config.path}: ${errorMessage(error)}`, {
        cause: error,
        retriable: true,
      });
    } finally {
      timer();
    }
    this.metrics.eventsOut.inc(records.length);
    this.metrics.bytesOut.inc(Buffer.byteLength(text));
    this.metrics.batchesOut.inc();
  }

  async stop(): Promise<void> {
    await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
