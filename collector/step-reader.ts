import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TributaryError, errorMessage } from '../shared/errors.js';
import { FRAME_HEADER, FrameReader, type FrameSchema } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { Logger } from '../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../shared/telemetry/metrics.js';
import type { DeadLetter } from './outputs/dead_letter/dead-letter-output.js';

export interface StepLimits {
  /** Decoded events (and dead letters) per step. */
  maxEvents: number;
  /** Decoded bytes of events (and of dead letters' values) per step. */
  maxBytes: number;
  /** A frame that decompresses past this is dead-lettered whole. */
  maxFrameBytes: number;
  /** How long one slice of decoding may hold the event loop before yielding. */
  sliceMs?: number;
}

/** One decoded event of a step, with where it came from. */
export interface StepEvent {
  readonly event: unknown;
  readonly schema: FrameSchema;
  readonly message: ConsumedMessage;
  /** The event's index among its frame's lines (undecodable ones counted): with the offset, its position in the partition. */
  readonly index: number;
  /** The event's own NDJSON line: what its dead letter carries if it cannot be processed. */
  readonly line: Buffer;
}

/** What one step holds: decoded events and the dead letters of what could not be decoded. */
export interface DecodedStep {
  readonly events: StepEvent[];
  readonly letters: DeadLetter[];
  /**
   * The offset of the last message whose every event is in this step or an earlier one: what may be
   * marked processed once this step is acknowledged. Undefined when the step ends inside the
   * step's first message (a large frame spread over several steps).
   */
  readonly completedOffset: string | undefined;
  /** Messages completed by this step. */
  readonly completedMessages: number;
  /** Compressed bytes of the messages started in this step. */
  readonly messageBytes: number;
}

const DEFAULT_SLICE_MS = 20;

/**
 * Cuts one partition's fetched messages into steps bounded by what they
 * really decode to (events and bytes, counted as lines are parsed), never
 * by the optional `tributary.event-count` header: one 6 KB message may
 * decompress to 64 MiB of tiny events. Decoding yields to the event loop
 * every `sliceMs`, so heartbeats and health checks keep answering while a
 * hostile frame is decoded.
 *
 * A frame is read in chunks: a chunk ends once it holds `maxEvents` lines or
 * `maxBytes` bytes counted from the chunk's own start, so where a large frame
 * is cut depends on the frame alone, never on what preceded it in the fetch.
 * A step takes whole chunks until it is full, so it holds at most the limits
 * plus one chunk. Cutting the same way on every replay is what lets a consumer
 * that aggregates (alert partials, deduplicated by the last event position of
 * each chunk) recognise a replayed part of a frame. A frame's offset is
 * reported complete only with its last line.
 */
export class StepReader {
  private next = 0;
  /** The frame being read; `lines` counts every line taken from it, `chunk*` the current chunk's share. */
  private current: { message: ConsumedMessage; reader: FrameReader; lines: number; chunkLines: number; chunkBytes: number } | undefined;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly messages: readonly ConsumedMessage[],
    private readonly limits: StepLimits,
    private readonly metrics: Readonly<Record<FrameSchema, ComponentMetrics>>,
    private readonly logger: Logger,
  ) {}

  /** The next step, or undefined when every message was read. */
  async read(): Promise<DecodedStep | undefined> {
    const sliceMs = this.limits.sliceMs ?? DEFAULT_SLICE_MS;
    const { maxEvents, maxBytes } = this.limits;
    const events: StepEvent[] = [];
    const letters: DeadLetter[] = [];
    let bytes = 0;
    let completedOffset: string | undefined;
    let completedMessages = 0;
    let messageBytes = 0;
    let deadline = performance.now() + sliceMs;
    const full = (): boolean => events.length + letters.length >= maxEvents || bytes >= maxBytes;
    // Full steps end only between chunks: never inside one, so chunk boundaries stay where the frame alone puts them.
    const betweenChunks = (): boolean => this.current === undefined || (this.current.chunkLines === 0 && this.current.chunkBytes === 0);
    while (!(full() && betweenChunks())) {
      if (performance.now() >= deadline) {
        await yieldToEventLoop();
        deadline = performance.now() + sliceMs;
      }
      if (this.current === undefined) {
        const message = this.messages[this.next];
        if (message === undefined) break;
        this.next++;
        messageBytes += message.value?.length ?? 0;
        try {
          const reader = await FrameReader.open(message.value, message.headers, this.limits.maxFrameBytes);
          this.current = { message, reader, lines: 0, chunkLines: 0, chunkBytes: 0 };
        } catch (error) {
          const letter = this.undecodableFrame(message, error);
          letters.push(letter);
          bytes += letter.value.length;
          completedOffset = message.offset;
          completedMessages++;
          continue;
        }
        deadline = performance.now() + sliceMs;
      }
      const current = this.current;
      const { message, reader } = current;
      const metrics = this.metrics[reader.schema];
      for (const line of reader.read(maxEvents - current.chunkLines, maxBytes - current.chunkBytes, deadline)) {
        bytes += line.bytes.length;
        current.chunkLines++;
        current.chunkBytes += line.bytes.length;
        const index = current.lines++;
        if (line.error === undefined) {
          events.push({ event: line.event, schema: reader.schema, message, index, line: line.bytes });
          continue;
        }
        metrics.error('decode');
        letters.push(this.letter(message, line.error, line.bytes, 1));
      }
      if (current.chunkLines >= maxEvents || current.chunkBytes >= maxBytes) {
        current.chunkLines = 0;
        current.chunkBytes = 0;
      }
      if (reader.done) {
        completedOffset = message.offset;
        completedMessages++;
        this.current = undefined;
      }
    }
    if (events.length === 0 && letters.length === 0 && completedOffset === undefined) return undefined;
    for (const schema of ['raw.log.v1', 'raw.metric.v1'] as const) {
      let count = 0;
      for (const event of events) if (event.schema === schema) count++;
      if (count > 0) this.metrics[schema].eventsIn.inc(count);
    }
    return { events, letters, completedOffset, completedMessages, messageBytes };
  }

  private undecodableFrame(message: ConsumedMessage, error: unknown): DeadLetter {
    // The header may name a schema even when the frame is unreadable; anything else is counted with logs, the first schema.
    const declared = message.headers[FRAME_HEADER.schema]?.toString() === 'raw.metric.v1' ? 'raw.metric.v1' : 'raw.log.v1';
    this.metrics[declared].error('decode');
    this.logger.warn(
      { topic: this.topic, partition: this.partition, offset: message.offset, err: errorMessage(error) },
      'undecodable frame sent to the dead-letter topic',
    );
    // The declared count is what the producer meant to send; it is only a counter's weight here, never a memory bound.
    const declaredEvents = Number(message.headers[FRAME_HEADER.eventCount]?.toString() ?? 1);
    const eventCount = Number.isSafeInteger(declaredEvents) && declaredEvents > 0 ? declaredEvents : 1;
    return { ...this.letter(message, error, message.value ?? Buffer.alloc(0), eventCount), originalHeaders: message.headers };
  }

  private letter(message: ConsumedMessage, error: unknown, value: Buffer, eventCount: number): DeadLetter {
    const code = error instanceof TributaryError ? error.code : 'FRAME_INVALID';
    return {
      sourceTopic: this.topic,
      sourcePartition: this.partition,
      sourceOffset: message.offset,
      reason: errorMessage(error),
      errorCode: code,
      key: message.key,
      value,
      eventCount,
      dropReason: code === 'FRAME_TOO_LARGE' ? 'frame_too_large' : 'frame_invalid',
    };
  }
}
