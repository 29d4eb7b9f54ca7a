import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { backoffDelay, sleep } from '../../../shared/pipeline/backoff.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { TopicSpec } from '../../../shared/kafka/topics.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import type { FrameConsumer, OutgoingFrame } from '../../framer/framer.js';
import type { KafkaOutputConfig } from './config.js';

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
    const producer = this.producer;
    const events = request.reduce((sum, frame) => sum + frame.frame.eventCount, 0);
    const bytes = request.reduce((sum, frame) => sum + frame.frame.value.length, 0);
    for (let attempt = 0; ; attempt++) {
      const timer = this.metrics.requestDuration.startTimer();
      try {
        await inSpan('kafka.produce', { 'messaging.destination.name': this.config.topic, 'messaging.batch.message_count': request.length }, () =>
          // Frames are zstd already; compressing the batch again would only burn CPU.
          producer.send(
            this.config.topic,
            request.map((frame) => ({ key: frame.key, value: frame.frame.value, headers: frame.frame.headers })),
            'none',
          ),
        );
        timer();
        this.metrics.eventsOut.inc(events);
        this.metrics.bytesOut.inc(bytes);
        this.metrics.batchesOut.inc();
        if (attempt > 0) this.logger.info({ topic: this.config.topic, attempts: attempt + 1 }, 'Kafka accepted frames after retries');
        return;
      } catch (error) {
        timer();
        if (!(error instanceof TributaryError && error.retriable)) {
          // Permanent rejection (e.g. a record too large for this topic): retrying cannot succeed and would
          // stall every file behind it, so the frames are dropped, counted and logged, never silently.
          this.metrics.error('kafka_rejected');
          this.metrics.drop('kafka_rejected', events);
          this.logger.error(
            { topic: this.config.topic, frames: request.length, events, err: errorMessage(error) },
            'Kafka rejected frames permanently; dropped',
          );
          return;
        }
        this.metrics.error('kafka_unavailable');
        const delay = backoffDelay(attempt, { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff });
        this.logger.warn({ topic: this.config.topic, attempt: attempt + 1, retry_in_ms: delay, err: errorMessage(error) }, 'produce failed; retrying');
        // While stopping we keep retrying until drain_timeout: the caller bounds it, and giving up early would lose acks.
        await sleep(delay);
      }
    }
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
