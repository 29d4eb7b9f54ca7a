import { isUtf8 } from 'node:buffer';
import { EventIdScope } from '../../../shared/record/event-id.js';
import type { RawLogEvent } from '../../../shared/record/raw-event.js';
import { RawLogNdjsonWriter } from '../../../shared/record/raw-log-ndjson.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FileSourceConfig } from './config.js';
import { ContainerFormatStage } from './container/container-stage.js';
import { codecFor } from './encoding.js';
import type { LineRecord, LineStage } from './line-stage.js';
import { LineSplitter } from './line-splitter.js';
import { MultilineStage } from './multiline/multiline-stage.js';

/**
 * Lines of one read are handed downstream in batches of about this many NDJSON
 * bytes: big enough that per-batch costs vanish, small enough that the batch
 * text stays a regular V8 string (strings over 128 KiB are allocated in the
 * large-object space, several times slower per byte).
 */
const BATCH_TARGET_BYTES = 56 * 1024;

/** On an event whose line had no newline when its file was finished (rotated away or deleted). */
export const UNTERMINATED_ATTRIBUTE = 'tributary.unterminated';

/** NDJSON of `raw.log.v1` events, ready for a BatchConsumer. */
export interface LineBatch {
  ndjson: string;
  eventCount: number;
  /** Where reading resumes after a crash once this batch is delivered: never past a line a stage still holds. */
  resumeOffset: number;
}

/** Who the events of one file are: the same for every line it yields. */
export interface FileEventOrigin {
  sourceName: string;
  agentId: string;
  host: string;
  /** The path discovery found (what events carry). */
  path: string;
  identity: string;
  labels: Record<string, string> | undefined;
}

/**
 * One file's bytes to batches of raw log events: splits lines (encoding-aware, `max_line_bytes`), runs the
 * optional stages (container format, then multiline), serializes events, cuts batches, and counts what lines
 * lose on the way (truncation, invalid text, oversize and malformed lines). It does no I/O: the tailer reads,
 * follows the file through rotation and acknowledges; this turns what it read into what goes downstream.
 *
 * Events are built one of two ways. With no stage and UTF-8 text (the common case), straight from the read
 * buffer by `RawLogNdjsonWriter`, never decoding a line to a string; otherwise as objects passed to
 * `JSON.stringify`, because stages rebuild records (CRI envelopes, multiline joins) and other encodings must be
 * decoded first.
 */
export class LineBatcher {
  private readonly splitter: LineSplitter;
  private readonly stages: LineStage[] = [];
  private readonly multiline: MultilineStage | undefined;
  private readonly container: ContainerFormatStage | undefined;
  private readonly statsSeen = { recordsCut: 0, linesDropped: 0, malformed: 0, partialsDropped: 0 };
  /** The fast path; undefined when a stage or another encoding needs decoded text. */
  private readonly writer: RawLogNdjsonWriter | undefined;
  private readonly ids: EventIdScope;
  private readonly batches: LineBatch[] = [];
  /** The end of the last whole line read: where a restart resumes when no stage holds a line. */
  private lastLineEnd: number;
  private truncatedLines = 0;
  private invalidLines = 0;
  private chunkIsValidUtf8 = true;

  constructor(
    private readonly origin: FileEventOrigin,
    private readonly config: FileSourceConfig,
    private readonly metrics: ComponentMetrics,
    startOffset: number,
  ) {
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
    this.ids = new EventIdScope([origin.agentId, origin.identity]);
    if (this.stages.length === 0 && config.encoding === 'utf-8') {
      this.writer = new RawLogNdjsonWriter(
        { host: origin.host, agentId: origin.agentId, sourceName: origin.sourceName, path: origin.path, fileId: origin.identity, labels: origin.labels },
        this.ids,
      );
    }
  }

  /** The lines of `chunk`, which starts at file offset `chunkOffset`; what a stage still holds waits for more. */
  addChunk(chunk: Buffer, chunkOffset: number): void {
    this.truncatedLines = 0;
    this.invalidLines = 0;
    this.chunkIsValidUtf8 = this.config.encoding !== 'utf-8' || isUtf8(chunk);
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
    if (this.truncatedLines > 0) this.metrics.truncated.inc(this.truncatedLines);
    if (this.invalidLines > 0) this.metrics.invalidText.inc(this.invalidLines);
  }

  /**
   * Emits what the stages release: what is due (`everything` false: a multiline timeout, at end of file) or all
   * they hold (`everything` true: the file is finished). With `unterminatedAt`, the file's last line, which never
   * got its newline, goes first (see {@link takeUnterminatedLine}); its offset is returned when there was one.
   */
  flush(everything: boolean, unterminatedAt?: number): number | undefined {
    const last = unterminatedAt === undefined ? undefined : this.takeUnterminatedLine(unterminatedAt);
    this.serializeRecords(this.flushStages(everything, last));
    return last?.offset;
  }

  /** The batches cut so far, in order; the batcher lets go of them. */
  takeBatches(): LineBatch[] {
    return this.batches.splice(0);
  }

  /** The earliest time a stage wants to be flushed (a multiline timeout), if any. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const stage of this.stages) {
      const deadline = stage.nextDeadline();
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
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
  private takeUnterminatedLine(readOffset: number): LineRecord | undefined {
    const line = this.splitter.takePartial(readOffset);
    if (!line) return undefined;
    this.lastLineEnd = line.end;
    this.metrics.truncated.inc();
    if (line.invalid) this.metrics.invalidText.inc();
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

  /** The general path (stages, other encodings): events built as objects, JSON.stringify'd. */
  private serializeRecords(records: readonly LineRecord[]): void {
    if (records.length === 0) return;
    const observedAt = new Date().toISOString();
    const { agentId, host, sourceName, path, identity, labels } = this.origin;
    let ndjson = '';
    let count = 0;
    for (const record of records) {
      const event: RawLogEvent & { truncated?: true; time?: string; attributes?: Record<string, string> } = {
        id: this.ids.id(record.offset),
        observed_at: observedAt,
        body: record.text,
        host,
        agent_id: agentId,
        source: { type: 'file', name: sourceName, path, file_id: identity, offset: record.offset },
      };
      if (labels) event.labels = labels;
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
    const seen = this.statsSeen;
    if (this.multiline) {
      const { recordsCut, linesDropped } = this.multiline.stats;
      if (recordsCut > seen.recordsCut) this.metrics.truncated.inc(recordsCut - seen.recordsCut);
      if (linesDropped > seen.linesDropped) this.metrics.drop('oversize', linesDropped - seen.linesDropped);
      seen.recordsCut = recordsCut;
      seen.linesDropped = linesDropped;
    }
    if (this.container) {
      const { malformed, partialsDropped } = this.container.stats;
      if (malformed > seen.malformed) this.metrics.error('decode', malformed - seen.malformed);
      if (partialsDropped > seen.partialsDropped) this.metrics.drop('oversize', partialsDropped - seen.partialsDropped);
      seen.malformed = malformed;
      seen.partialsDropped = partialsDropped;
    }
  }
}
