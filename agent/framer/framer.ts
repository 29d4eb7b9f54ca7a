import { encodeFrame, type EncodedFrame, type FrameSchema } from '../../shared/frame/frame-codec.js';
import type { BatchConsumer, EventBatch } from '../../shared/pipeline/types.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import type { FramerConfig } from './config.js';

/** A compressed frame on its way to Kafka, with the delivery callbacks of the batches inside it. */
export interface OutgoingFrame {
  readonly key: string;
  readonly frame: EncodedFrame;
  readonly onDelivered: () => void;
}

export interface FrameConsumer {
  /** Resolves when the frame is accepted (bounded buffer); delivery is reported through the frame. */
  consumeFrame(frame: OutgoingFrame): Promise<void>;
}

interface PendingFrame {
  schema: FrameSchema;
  parts: string[];
  bytes: number;
  events: number;
  callbacks: Array<() => void>;
  lingerTimer: NodeJS.Timeout | undefined;
}

/**
 * Groups batches per key into frames bounded by bytes, events and linger time,
 * then compresses them. Batches are never split, so a frame's delivery maps
 * back to whole source batches and checkpoints stay exact.
 */
export class Framer implements BatchConsumer {
  private readonly pending = new Map<string, PendingFrame>();
  private readonly inFlightFlushes = new Set<Promise<void>>();

  constructor(
    private readonly config: FramerConfig,
    private readonly downstream: FrameConsumer,
    private readonly metrics: ComponentMetrics,
  ) {}

  async consume(batch: EventBatch): Promise<void> {
    const batchBytes = Buffer.byteLength(batch.ndjson);
    this.metrics.eventsIn.inc(batch.eventCount);
    this.metrics.bytesIn.inc(batchBytes);
    let frame = this.pending.get(batch.key);
    if (
      frame &&
      (frame.schema !== batch.schema || frame.bytes + batchBytes > this.config.max_bytes || frame.events + batch.eventCount > this.config.max_events)
    ) {
      await this.flush(batch.key);
      frame = undefined;
    }
    if (!frame) {
      frame = { schema: batch.schema, parts: [], bytes: 0, events: 0, callbacks: [], lingerTimer: undefined };
      this.pending.set(batch.key, frame);
      const key = batch.key;
      frame.lingerTimer = setTimeout(() => {
        this.trackFlush(this.flush(key));
      }, this.config.linger);
    }
    frame.parts.push(batch.ndjson);
    frame.bytes += batchBytes;
    frame.events += batch.eventCount;
    frame.callbacks.push(() => batch.onDelivered());
    if (frame.bytes >= this.config.max_bytes || frame.events >= this.config.max_events) await this.flush(batch.key);
  }

  /** Flushes every pending frame (shutdown, or a caller that needs everything on its way). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((key) => this.flush(key)));
    await Promise.all([...this.inFlightFlushes]);
  }

  private trackFlush(flush: Promise<void>): void {
    this.inFlightFlushes.add(flush);
    void flush.finally(() => this.inFlightFlushes.delete(flush));
  }

  private async flush(key: string): Promise<void> {
    const frame = this.pending.get(key);
    if (!frame) return;
    this.pending.delete(key);
    clearTimeout(frame.lingerTimer);
    const encoded = encodeFrame(frame.schema, frame.parts.join(''), frame.events);
    this.metrics.compressionRatio.set(encoded.uncompressedBytes / Math.max(1, encoded.value.length));
    const callbacks = frame.callbacks;
    await this.downstream.consumeFrame({
      key,
      frame: encoded,
      onDelivered: () => {
        this.metrics.eventsOut.inc(encoded.eventCount);
        this.metrics.bytesOut.inc(encoded.value.length);
        this.metrics.batchesOut.inc();
        for (const callback of callbacks) callback();
      },
    });
  }
}
