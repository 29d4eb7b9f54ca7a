import { decompress } from 'zstd-napi';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { FRAME_HEADER, encodeFrame, type FrameSchema } from '../../../shared/frame/frame-codec.js';
import { retry } from '../../../shared/pipeline/retry.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { DeliveryOutcome } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';

export interface FrameMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  eventCount: number;
}

export interface ProduceFramesOptions {
  producer: MessageProducer;
  topic: string;
  retry: { initial_backoff: number; max_backoff: number };
  metrics: ComponentMetrics;
  logger: Logger;
  /** Aborting stops retrying; the frames are then neither delivered nor dropped. */
  signal?: AbortSignal;
}

export interface SizedProduceOptions extends ProduceFramesOptions {
  /** Bytes one record batch (all frames of one request that land in one partition) may take: see `batchBudget`. */
  batchBudgetBytes: number;
}

/** What became of one frame: every event acknowledged, some refused for good (counted), or stopped before the end. */
export type FrameOutcome = DeliveryOutcome | { readonly status: 'aborted' };

type RequestOutcome = 'delivered' | 'too_large' | 'rejected' | 'aborted';

/**
 * Room kept below the broker's limit for what wraps the records: the log overhead (12 bytes) and the v2 record
 * batch header (61 bytes) the broker counts against `max.message.bytes`, with a margin for client differences.
 */
const BATCH_HEADROOM_BYTES = 1024;
/** A record's own overhead at most: length, attributes, timestamp and offset deltas, key and value lengths, header count (varints). */
const RECORD_OVERHEAD_BYTES = 40;
/** A header's overhead at most: the varint lengths of its name and value. */
const HEADER_OVERHEAD_BYTES = 10;

/** The bytes a record batch may hold under a topic's `max.message.bytes`. */
export function batchBudget(maxMessageBytes: number): number {
  return Math.max(1, maxMessageBytes - BATCH_HEADROOM_BYTES);
}

/** An upper bound of the bytes `frame` takes inside an uncompressed v2 record batch. */
export function recordBytesBound(frame: FrameMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(frame.key) + frame.value.length;
  for (const [name, value] of Object.entries(frame.headers)) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/**
 * Produces `frames` in order and says what became of each. Requests are cut so
 * that all of them together stay within one record batch's budget, so no
 * partition's batch can exceed the broker's limit whichever partitions the keys
 * hash to. What the broker still refuses for its size (the topic's limit was
 * lowered) is split in halves and sent again, down to single frames, and a
 * frame too large on its own is re-framed into smaller frames of its events.
 * Only an event too large for the topic even alone, or a frame the broker
 * refuses for another permanent reason, fails: counted as a drop with its
 * reason, exactly once per event, and reported failed, never delivered.
 */
export async function produceFramesSized(frames: readonly FrameMessage[], options: SizedProduceOptions): Promise<FrameOutcome[]> {
  const outcomes: FrameOutcome[] = [];
  let start = 0;
  while (start < frames.length) {
    let end = start;
    let bytes = 0;
    while (end < frames.length) {
      const next = recordBytesBound(frames[end] as FrameMessage);
      if (end > start && bytes + next > options.batchBudgetBytes) break;
      bytes += next;
      end++;
    }
    const chunk = frames.slice(start, end);
    if (chunk.length === 1 && bytes > options.batchBudgetBytes) outcomes.push(await produceReframed(chunk[0] as FrameMessage, options));
    else outcomes.push(...(await produceSplitting(chunk, options)));
    start = end;
  }
  return outcomes;
}

/** One request; on a permanent refusal the request is halved, so exactly the frames the broker refuses are found. */
async function produceSplitting(frames: readonly FrameMessage[], options: SizedProduceOptions): Promise<FrameOutcome[]> {
  const outcome = await produceFrames(frames, options);
  if (outcome === 'delivered' || outcome === 'aborted') return frames.map(() => ({ status: outcome }));
  if (frames.length > 1) {
    // In order, first half first: frames of one key keep their order in the partition (checkpoints would not need it).
    const half = Math.ceil(frames.length / 2);
    const first = await produceSplitting(frames.slice(0, half), options);
    return [...first, ...(await produceSplitting(frames.slice(half), options))];
  }
  const frame = frames[0] as FrameMessage;
  if (outcome === 'too_large') return [await produceReframed(frame, options)];
  options.metrics.drop('kafka_rejected', frame.eventCount);
  options.logger.error(
    { topic: options.topic, key: frame.key, events: frame.eventCount },
    'Kafka refused a frame permanently; its events are dropped and not acknowledged',
  );
  return [{ status: 'failed', reason: 'kafka_rejected' }];
}

/**
 * Sends a frame too large for one record batch as several frames of its
 * events, each within the budget (halving until they fit). The frame is
 * delivered when all parts are; one event too large even alone is dropped,
 * counted, and fails the frame.
 */
async function produceReframed(frame: FrameMessage, options: SizedProduceOptions): Promise<FrameOutcome> {
  const schema = frame.headers[FRAME_HEADER.schema] as FrameSchema;
  const lines = splitLines(decompress(frame.value));
  if (lines.length <= 1) {
    options.metrics.drop('frame_too_large', frame.eventCount);
    options.logger.error(
      { topic: options.topic, key: frame.key, events: frame.eventCount, record_bytes: recordBytesBound(frame), batch_budget_bytes: options.batchBudgetBytes },
      "an event is larger than the topic's max.message.bytes allows even alone; dropped and not acknowledged (raise the topic's max.message.bytes or lower max_line_bytes)",
    );
    return { status: 'failed', reason: 'frame_too_large' };
  }
  const half = halfByBytes(lines);
  let result: FrameOutcome = { status: 'delivered' };
  for (const part of [lines.slice(0, half), lines.slice(half)]) {
    const encoded = encodeFrame(schema, Buffer.concat(part), part.length);
    const partOutcomes = await produceFramesSized([{ key: frame.key, value: encoded.value, headers: encoded.headers, eventCount: part.length }], options);
    const partOutcome = partOutcomes[0] as FrameOutcome;
    // The first failure names the frame's outcome; later parts are still sent, so only what failed is missing.
    if (partOutcome.status === 'aborted') return partOutcome;
    if (result.status === 'delivered' && partOutcome.status === 'failed') result = partOutcome;
  }
  return result;
}

/** The frame's NDJSON lines, each with its "\n" (JSON.stringify escapes newlines, so one event is one line). */
function splitLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const newline = body.indexOf(0x0a, start);
    const end = newline === -1 ? body.length : newline + 1;
    lines.push(body.subarray(start, end));
    start = end;
  }
  return lines;
}

/** The index that cuts `lines` into two runs of about equal bytes, each holding at least one line. */
function halfByBytes(lines: readonly Buffer[]): number {
  const total = lines.reduce((sum, line) => sum + line.length, 0);
  let bytes = 0;
  for (let index = 0; index < lines.length - 1; index++) {
    bytes += (lines[index] as Buffer).length;
    if (bytes * 2 >= total) return index + 1;
  }
  return lines.length - 1;
}

/**
 * Produces one request of frames with acks=all, retrying what can succeed
 * (broker away, leader moving) with jittered backoff for as long as it takes.
 * A permanent refusal is returned, not dropped: the caller splits the request
 * to find what the broker refuses, so a drop is counted exactly.
 */
export async function produceFrames(frames: readonly FrameMessage[], options: ProduceFramesOptions): Promise<RequestOutcome> {
  const { producer, topic, metrics, logger, signal } = options;
  const events = frames.reduce((sum, frame) => sum + frame.eventCount, 0);
  const bytes = frames.reduce((sum, frame) => sum + frame.value.length, 0);
  if (signal?.aborted) return 'aborted';
  try {
    await retry(
      async (attempt) => {
        const timer = metrics.requestDuration.startTimer();
        try {
          await inSpan('kafka.produce', { 'messaging.destination.name': topic, 'messaging.batch.message_count': frames.length }, () =>
            // Frames are zstd already; compressing the batch again would only burn CPU.
            producer.send(
              topic,
              frames.map((frame) => ({ key: frame.key, value: frame.value, headers: frame.headers })),
              'none',
            ),
          );
        } catch (error) {
          // Every failed request counts, the one the output stops after included.
          if (isRetriable(error)) metrics.error('kafka_unavailable');
          throw error;
        } finally {
          timer();
        }
        metrics.eventsOut.inc(events);
        metrics.bytesOut.inc(bytes);
        metrics.batchesOut.inc();
        if (attempt > 1) logger.info({ topic, attempts: attempt }, 'Kafka accepted frames after retries');
      },
      {
        // No max_attempts: a request is retried until Kafka takes it or the output stops.
        policy: { initialMs: options.retry.initial_backoff, maxMs: options.retry.max_backoff },
        signal,
        classify: (error) => (isRetriable(error) ? 'retry' : 'fail'),
        onRetry: (attempt, delayMs, error) => logger.warn({ topic, attempt, retry_in_ms: delayMs, err: errorMessage(error) }, 'produce failed; retrying'),
      },
    );
    return 'delivered';
  } catch (error) {
    // Only the stop ends the retrying of a retriable failure.
    if (isRetriable(error)) return 'aborted';
    metrics.error('kafka_rejected');
    const tooLarge = error instanceof TributaryError && error.code === 'FRAME_TOO_LARGE';
    logger.warn({ topic, frames: frames.length, events, bytes, too_large: tooLarge, err: errorMessage(error) }, 'Kafka refused a produce request permanently');
    return tooLarge ? 'too_large' : 'rejected';
  }
}

/** The broker away or a leader moving: the request may succeed later. */
function isRetriable(error: unknown): boolean {
  return error instanceof TributaryError && error.retriable;
}
