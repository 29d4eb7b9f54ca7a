import { encodeFrame, type EncodedFrame, type FrameSchema } from '../../shared/frame/frame-codec.js';
import type { BatchConsumer, DeliveryOutcome, EventBatch } from '../../shared/pipeline/types.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import type { FramerConfig } from './config.js';

/** A compressed frame on its way to Kafka, with the delivery callbacks of the batches inside it. */
export interface OutgoingFrame {
  readonly key: string;
  readonly frame: EncodedFrame;
  /** Called once: delivered, or failed (some events refused for good and counted); each batch's source decides what that means for its checkpoint. */
  readonly onDelivered: (outcome: DeliveryOutcome) => void;
}

export interface FrameConsumer {
  /** Resolves when the frame is accepted (bounded buffer); delivery is reported through the frame. */
  consumeFrame(frame: OutgoingFrame): Promise<void>;
}

interface PendingFrame {
  schema: FrameSchema;
  /** The frame's NDJSON as UTF-8 is `body[0, bytes)`; the rest is room to grow into. */
  body: Buffer;
  bytes: number;
  events: number;
  callbacks: Array<(outcome: DeliveryOutcome) => void>;
  lingerTimer: NodeJS.Timeout | undefined;
}

const INITIAL_BODY_BYTES = 64 * 1024;
/** Bodies kept for reuse after their frame is compressed, so a busy agent stops allocating them. */
const SPARE_BODIES = 2;
const utf8 = new TextEncoder();

/**
 * Groups batches per key into frames bounded by bytes, events and linger time,
 * then compresses them. Batches are never split, so a frame's delivery maps
 * back to whole source batches: each is one range of its source's AckTracker
 * (agent/checkpoint/ack-tracker.ts), and checkpoints stay exact.
 *
 * Each batch is encoded to UTF-8 once, straight into its frame's body buffer
 * (which also measures it), and the frame is compressed from that buffer: no
 * joined string, no second copy, and body buffers are reused. A batch's text is
 * not read after `consume` resolves, so its producer may let go of it then.
 */
export class Framer implements BatchConsumer {
  private readonly pending = new Map<string, PendingFrame>();
  private readonly inFlightFlushes = new Set<Promise<void>>();
  private readonly spareBodies: Buffer[] = [];

  constructor(
    private readonly config: FramerConfig,
    private readonly downstream: FrameConsumer,
    private readonly metrics: ComponentMetrics,
  ) {}

  async consume(batch: EventBatch): Promise<void> {
    this.metrics.eventsIn.inc(batch.eventCount);
    let frame: PendingFrame;
    let batchBytes: number;
    for (;;) {
      const current = this.pending.get(batch.key);
      if (current === undefined) {
        frame = this.open(batch.key, batch.schema);
        // Alone in its frame a batch always fits, even one larger than max_bytes.
        batchBytes = this.append(frame, batch.ndjson, Infinity);
        break;
      }
      if (current.schema === batch.schema && current.events + batch.eventCount <= this.config.max_events) {
        batchBytes = this.append(current, batch.ndjson, this.config.max_bytes);
        if (batchBytes >= 0) {
          frame = current;
          break;
        }
      }
      // Looked up again after the flush: another batch for this key may have opened a frame meanwhile.
      await this.flush(batch.key);
    }
    this.metrics.bytesIn.inc(batchBytes);
    frame.events += batch.eventCount;
    frame.callbacks.push((outcome) => batch.onDelivered(outcome));
    if (frame.bytes >= this.config.max_bytes || frame.events >= this.config.max_events) await this.flush(batch.key);
  }

  /** Flushes every pending frame (shutdown, or a caller that needs everything on its way). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((key) => this.flush(key)));
    await Promise.all([...this.inFlightFlushes]);
  }

  private open(key: string, schema: FrameSchema): PendingFrame {
    const frame: PendingFrame = {
      schema,
      body: this.spareBodies.pop() ?? Buffer.allocUnsafe(INITIAL_BODY_BYTES),
      bytes: 0,
      events: 0,
      callbacks: [],
      lingerTimer: undefined,
    };
    this.pending.set(key, frame);
    frame.lingerTimer = setTimeout(() => {
      this.trackFlush(this.flush(key));
    }, this.config.linger);
    return frame;
  }

  /**
   * Encodes `text` after the frame's bytes if the frame stays within `limit`
   * bytes; returns the bytes added, or -1 (frame unchanged) when it would not.
   */
  private append(frame: PendingFrame, text: string, limit: number): number {
    if (frame.bytes + text.length > limit) return -1; // a UTF-16 unit is at least one UTF-8 byte
    const worstCase = frame.bytes + text.length * 3;
    if (worstCase > frame.body.length && frame.body.length < limit) {
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(worstCase, frame.body.length * 2)));
      frame.body.copy(grown, 0, 0, frame.bytes);
      frame.body = grown;
    }
    const room = frame.body.subarray(frame.bytes, Math.min(limit, frame.body.length));
    const { read, written } = utf8.encodeInto(text, room);
    if (read < text.length) return -1;
    frame.bytes += written;
    return written;
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
    // Compression copies what it needs, so the body can be reused right after.
    const encoded = encodeFrame(frame.schema, frame.body.subarray(0, frame.bytes), frame.events);
    this.recycle(frame.body);
    this.metrics.compressionRatio.set(encoded.uncompressedBytes / Math.max(1, encoded.value.length));
    const callbacks = frame.callbacks;
    await this.downstream.consumeFrame({
      key,
      frame: encoded,
      onDelivered: (outcome) => {
        if (outcome.status === 'delivered') {
          this.metrics.eventsOut.inc(encoded.eventCount);
          this.metrics.bytesOut.inc(encoded.value.length);
          this.metrics.batchesOut.inc();
        }
        // Every batch of a failed frame is told so: which of its events were refused is not known per batch.
        for (const callback of callbacks) callback(outcome);
      },
    });
  }

  /** Keeps a few bodies of the usual size; an outsized one (a huge batch) is left to the GC. */
  private recycle(body: Buffer): void {
    if (this.spareBodies.length < SPARE_BODIES && body.length <= Math.max(this.config.max_bytes, INITIAL_BODY_BYTES)) this.spareBodies.push(body);
  }
}
