import { TributaryError } from '../../../shared/errors.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { TopicSpec } from '../../../shared/kafka/topics.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FrameConsumer, OutgoingFrame } from '../../framer/framer.js';
import type { KafkaOutputConfig } from './config.js';
import { produceFrames } from './produce-frames.js';

/**
 * Produces frames with acks=all and reports delivery only after the broker
 * acknowledged them (unlike outputs that call a record delivered once it is
 * queued in the client). Memory is bounded by `buffer_max_bytes`: when Kafka is
 * slow, `consumeFrame` waits, the framer waits, and the file sources stop
 * reading — the files are the buffer.
 */
export class KafkaOutput implements FrameConsumer, Lifecycle {
  private readonly queue: OutgoingFrame[] = [];
  private readonly spaceWaiters: Array<{ bytes: number; admit: () => void }> = [];
  private bufferedBytes = 0;
  private sending: Promise<void> = Promise.resolve();
  private sendLoopRunning = false;
  private stopped = false;

  constructor(
    private readonly config: KafkaOutputConfig,
    private readonly producer: MessageProducer,
    private readonly ensureTopics: (specs: readonly TopicSpec[]) => Promise<string[]>,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.config.create_topic) {
      const created = await this.ensureTopics([{ topic: this.config.topic, partitions: this.config.partitions }]);
      if (created.length > 0) this.logger.info({ topic: this.config.topic, partitions: this.config.partitions }, 'created topic');
    }
    await this.producer.connect();
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  async consumeFrame(frame: OutgoingFrame): Promise<void> {
    if (this.stopped) throw new TributaryError('SHUTDOWN', 'Kafka output is stopped');
    const bytes = frame.frame.value.length;
    // FIFO admission keeps frames of one key in the order the framer produced them.
    if (this.spaceWaiters.length === 0 && this.hasRoomFor(bytes)) this.reserve(bytes);
    else await new Promise<void>((admit) => this.spaceWaiters.push({ bytes, admit }));
    this.queue.push(frame);
    this.metrics.eventsIn.inc(frame.frame.eventCount);
    if (!this.sendLoopRunning) this.sending = this.sendLoop();
  }

  /** An empty buffer always admits one frame, so a frame larger than the buffer cannot deadlock. */
  private hasRoomFor(bytes: number): boolean {
    return this.bufferedBytes === 0 || this.bufferedBytes + bytes <= this.config.buffer_max_bytes;
  }

  private reserve(bytes: number): void {
    this.bufferedBytes += bytes;
    this.metrics.bufferedBytes.set(this.bufferedBytes);
  }

  private releaseSpace(bytes: number): void {
    this.bufferedBytes -= bytes;
    this.metrics.bufferedBytes.set(this.bufferedBytes);
    // Bytes are reserved at admission, before the waiter resumes, so admitting several at once cannot overfill.
    for (let next = this.spaceWaiters[0]; next && this.hasRoomFor(next.bytes); next = this.spaceWaiters[0]) {
      this.spaceWaiters.shift();
      this.reserve(next.bytes);
      next.admit();
    }
  }

  private takeRequest(): OutgoingFrame[] {
    const request: OutgoingFrame[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as OutgoingFrame;
      if (request.length > 0 && bytes + next.frame.value.length > this.config.request_max_bytes) break;
      request.push(next);
      bytes += next.frame.value.length;
      this.queue.shift();
    }
    return request;
  }

  /** The flag flips synchronously with the queue check, so a frame pushed right after the loop ends starts a new one. */
  private async sendLoop(): Promise<void> {
    this.sendLoopRunning = true;
    try {
      while (this.queue.length > 0) {
        const request = this.takeRequest();
        await this.sendWithRetry(request);
        let bytes = 0;
        for (const frame of request) {
          bytes += frame.frame.value.length;
          frame.onDelivered();
        }
        this.releaseSpace(bytes);
      }
    } finally {
      this.sendLoopRunning = false;
    }
  }

  private async sendWithRetry(request: OutgoingFrame[]): Promise<void> {
    // No abort signal: while stopping, retries go on until drain_timeout, because giving up early would lose acks.
    await produceFrames(
      request.map((frame) => ({ key: frame.key, value: frame.frame.value, headers: frame.frame.headers, eventCount: frame.frame.eventCount })),
      { producer: this.producer, topic: this.config.topic, retry: this.config.retry, metrics: this.metrics, logger: this.logger },
    );
  }

  /** Waits until every accepted frame is acknowledged (or the drain timeout passes), then disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const drained = this.sending;
    const timedOut = await Promise.race([drained.then(() => false), sleep(this.config.drain_timeout).then(() => true)]);
    if (timedOut) {
      const events = this.queue.reduce((sum, frame) => sum + frame.frame.eventCount, 0);
      this.logger.warn({ frames: this.queue.length, events }, 'drain timeout: unacknowledged frames stay unacknowledged and will be re-read after restart');
    }
    await this.producer.disconnect();
  }
}
