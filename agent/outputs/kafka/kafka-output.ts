import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import { retry } from '../../../shared/pipeline/retry.js';
import { deniedAccess, isRetriableKafkaError, refusedCredentials } from '../../../shared/kafka/errors.js';
import type { MessageProducer, OutgoingMessage, KafkaCompression } from '../../../shared/kafka/producer.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, type TopicAdmin } from '../../../shared/kafka/topics.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FrameConsumer, OutgoingFrame } from '../../framer/framer.js';
import type { KafkaOutputConfig } from './config.js';
import { batchBudget, produceFramesSized, recordBytesBound, type FrameMessage } from './produce-frames.js';
import type { StatusContribution, StatusReporter } from '../../../shared/telemetry/status.js';
import { KAFKA_OUTPUTS_STATUS_TABLE } from './output-status.js';

/**
 * Produces frames with acks=all and reports delivery only after the broker
 * acknowledged them (unlike outputs that call a record delivered once it is
 * queued in the client). Memory is bounded by `buffer_max_bytes`: when Kafka is
 * slow, `consumeFrame` waits, the framer waits, and the file sources stop
 * reading — the files are the buffer.
 *
 * Requests are sized to the topic's `max.message.bytes` (read at start-up), and
 * what the broker refuses for its size is split, never dropped (see
 * `produceFramesSized`). Kafka being unreachable at start-up is not fatal: the
 * output keeps connecting, says why, and reports not ready until it connects.
 */
export class KafkaOutput implements FrameConsumer, Lifecycle, StatusReporter {
  private readonly queue: OutgoingFrame[] = [];
  private readonly spaceWaiters: Array<{ bytes: number; admit: () => void }> = [];
  private bufferedBytes = 0;
  private sending: Promise<void> = Promise.resolve();
  private sendLoopRunning = false;
  private stopped = false;
  private readonly stopConnecting = new AbortController();
  private connection: Promise<boolean> = Promise.resolve(false);
  private connected = false;
  private connectFailures = 0;
  /** Bytes of records one request may carry: within one record batch of the topic, and within request_max_bytes. */
  private requestBudgetBytes: number;
  /** The broker's authorizer denied the last attempt (to connect or to produce): not ready, and why, until one succeeds. */
  private denied: TributaryError | undefined;
  /** The producer, noting denials and successes for readiness; produce retries a denial like an outage (files wait). */
  private readonly watchedProducer: MessageProducer;

  constructor(
    private readonly config: KafkaOutputConfig,
    private readonly producer: MessageProducer,
    private readonly topicAdmin: TopicAdmin,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
  ) {
    this.requestBudgetBytes = Math.min(config.request_max_bytes, batchBudget(KAFKA_DEFAULT_MAX_MESSAGE_BYTES));
    metrics.bufferLimitBytes.set(config.buffer_max_bytes);
    this.watchedProducer = {
      connect: () => producer.connect(),
      disconnect: () => producer.disconnect(),
      send: async (topic: string, messages: readonly OutgoingMessage[], compression?: KafkaCompression) => {
        try {
          await producer.send(topic, messages, compression);
          this.denied = undefined;
        } catch (error) {
          if (deniedAccess(error)) this.denied = error as TributaryError;
          throw error;
        }
      },
    };
  }

  /** Returns at once; connecting goes on in the background until it succeeds or the output stops. */
  start(): Promise<void> {
    // The client retries a while before an attempt fails; until then this says why the agent is not ready yet.
    this.logger.info({ topic: this.config.topic }, 'connecting to Kafka; not ready until connected');
    this.connection = this.connect();
    return Promise.resolve();
  }

  statusRows(): StatusContribution[] {
    return [
      {
        table: KAFKA_OUTPUTS_STATUS_TABLE,
        rows: [
          {
            output: 'kafka',
            topic: this.config.topic,
            connected: this.connected,
            frames_waiting: this.queue.length,
            bytes_waiting: this.bufferedBytes,
            buffer: 'memory (files are re-read after a restart)',
          },
        ],
      },
    ];
  }

  /** Connected to Kafka with the topic in place, and allowed to write to it: what the agent's readiness reports. */
  get ready(): boolean {
    return this.connected && this.denied === undefined;
  }

  /** Why Kafka denies this output (naming the ACL to grant and the principal), for /readyz; undefined otherwise. */
  get problem(): string | undefined {
    return this.denied?.message;
  }

  private async connect(): Promise<boolean> {
    const signal = this.stopConnecting.signal;
    if (signal.aborted) return false;
    try {
      await retry(
        async () => {
          try {
            if (this.config.create_topic) {
              const created = await this.topicAdmin.ensureTopics([{ topic: this.config.topic, partitions: this.config.partitions }]);
              if (created.length > 0) this.logger.info({ topic: this.config.topic, partitions: this.config.partitions }, 'created topic');
            }
            const maxMessageBytes = await this.readMaxMessageBytes();
            await this.producer.connect();
            this.requestBudgetBytes = Math.min(this.config.request_max_bytes, batchBudget(maxMessageBytes));
            this.connected = true;
            this.denied = undefined;
            this.logger.info(
              { topic: this.config.topic, max_message_bytes: maxMessageBytes, request_max_bytes: this.requestBudgetBytes },
              'connected to Kafka',
            );
          } catch (error) {
            if (deniedAccess(error)) this.denied = error as TributaryError;
            this.connectFailures++;
            this.metrics.error('kafka_unavailable');
            throw error;
          }
        },
        {
          policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff },
          signal,
          // Whatever fails, the files wait unread; connecting is tried again until stop.
          classify: () => 'retry',
          // One line per attempt; attempts are spaced by the backoff (up to retry.max_backoff), so the rate is bounded.
          onRetry: (attempt, delayMs, error) =>
            this.logger.warn(
              { topic: this.config.topic, attempt, retry_in_ms: delayMs, err: errorMessage(error) },
              // A refusal is not an outage: the operator has a secret or certificate to fix, named in err.
              refusedCredentials(error)
                ? 'Kafka refused the connection; not ready, files wait unread until it accepts'
                : deniedAccess(error)
                  ? 'Kafka denied access; not ready, files wait unread until the ACL is granted'
                  : 'Kafka unreachable; not ready, files wait unread until it is back',
            ),
        },
      );
      return true;
    } catch {
      // Every failure is retried: only the stop ends this.
      return false;
    }
  }

  /** The topic's limit; when the broker will not describe it (no permission), Kafka's default, which splitting backs up. */
  private async readMaxMessageBytes(): Promise<number> {
    try {
      const limit = await this.topicAdmin.maxMessageBytes(this.config.topic);
      if (limit !== undefined) return limit;
    } catch (error) {
      // Kafka away: try again. Denied (no DescribeConfigs ACL, which the output does without): the default.
      if (isRetriableKafkaError(error) && !deniedAccess(error)) throw error;
      this.logger.warn({ topic: this.config.topic, err: errorMessage(error) }, "cannot read the topic's max.message.bytes; assuming Kafka's default");
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    }
    this.logger.warn(
      { topic: this.config.topic },
      "the broker did not report the topic's max.message.bytes (it needs DescribeConfigs on the topic); assuming Kafka's default",
    );
    return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  async consumeFrame(frame: OutgoingFrame): Promise<void> {
    if (this.stopped) throw new TributaryError('SHUTDOWN', 'Kafka output is stopped');
    const bytes = frame.frame.value.length;
    // FIFO admission keeps frames of one key in the order the framer produced them: the order of their records in
    // the partition. Checkpoints do not depend on it (each file's AckTracker orders its acknowledgements).
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
      const nextBytes = recordBytesBound(frameMessage(next));
      if (request.length > 0 && bytes + nextBytes > this.requestBudgetBytes) break;
      request.push(next);
      bytes += nextBytes;
      this.queue.shift();
    }
    return request;
  }

  /** The flag flips synchronously with the queue check, so a frame pushed right after the loop ends starts a new one. */
  private async sendLoop(): Promise<void> {
    this.sendLoopRunning = true;
    try {
      // Not connected yet (Kafka away at start-up): frames wait in the bounded buffer; stopping first leaves them unacknowledged.
      if (!(await this.connection)) return;
      while (this.queue.length > 0) {
        const request = this.takeRequest();
        const outcomes = await this.send(request);
        let bytes = 0;
        for (const [index, frame] of request.entries()) {
          bytes += frame.frame.value.length;
          const outcome = outcomes[index];
          // No abort signal is passed, so every frame ends delivered or failed.
          if (outcome !== undefined && outcome.status !== 'aborted') frame.onDelivered(outcome);
        }
        this.releaseSpace(bytes);
      }
    } finally {
      this.sendLoopRunning = false;
    }
  }

  private send(request: readonly OutgoingFrame[]) {
    // No abort signal: while stopping, retries go on until drain_timeout, because giving up early would lose acks.
    return produceFramesSized(request.map(frameMessage), {
      producer: this.watchedProducer,
      topic: this.config.topic,
      retry: this.config.retry,
      metrics: this.metrics,
      logger: this.logger,
      batchBudgetBytes: this.requestBudgetBytes,
    });
  }

  /** Waits until every accepted frame is acknowledged (or the drain timeout passes), then disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.connected && this.connectFailures > 0) {
      // Kafka was unreachable: waiting for the drain timeout would only delay the exit, and nothing accepted
      // is lost: it is unacknowledged and re-read after the restart.
      this.stopConnecting.abort();
      if (this.queue.length > 0)
        this.logger.warn({ frames: this.queue.length }, 'stopping while Kafka is unreachable: buffered frames will be re-read after restart');
      await this.producer.disconnect();
      return;
    }
    const drained = this.sending;
    const timedOut = await Promise.race([drained.then(() => false), sleep(this.config.drain_timeout).then(() => true)]);
    if (timedOut) {
      const events = this.queue.reduce((sum, frame) => sum + frame.frame.eventCount, 0);
      this.logger.warn({ frames: this.queue.length, events }, 'drain timeout: unacknowledged frames stay unacknowledged and will be re-read after restart');
    }
    this.stopConnecting.abort();
    await this.producer.disconnect();
  }
}

function frameMessage(frame: OutgoingFrame): FrameMessage {
  return { key: frame.key, value: frame.frame.value, headers: frame.frame.headers, eventCount: frame.frame.eventCount };
}
