import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import { retry } from '../../../shared/pipeline/retry.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import { deniedAccess, isRetriableKafkaError, refusedCredentials } from '../../../shared/kafka/errors.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, type TopicAdmin } from '../../../shared/kafka/topics.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { FrameConsumer, OutgoingFrame } from '../../framer/framer.js';
import { DiskSpool, type SpoolDrop } from '../../spool/disk-spool.js';
import type { MetricsOutputConfig } from './config.js';
import { batchBudget, produceFramesSized } from './produce-frames.js';
import type { StatusContribution, StatusReporter } from '../../../shared/telemetry/status.js';
import { KAFKA_OUTPUTS_STATUS_TABLE } from './output-status.js';

/** Frames per produce request at most; bytes are bounded by request_max_bytes. */
const MAX_FRAMES_PER_REQUEST = 500;
/** How long stopping waits for a request in flight and for the disconnect once drain_timeout has passed. */
const STOP_GRACE_MS = 1_000;

/**
 * The output for what cannot be re-read (scrapes): every frame is appended to
 * the disk spool before it counts as accepted, and a sender produces from the
 * spool in order, deleting what Kafka acknowledged. When Kafka is away the
 * spool grows up to its cap (the oldest frames are dropped past it, counted
 * exactly); an agent restart resumes from what was left. It starts and keeps
 * accepting frames while Kafka is unreachable, since a scraper that waits for
 * Kafka loses the scrapes it misses.
 */
export class SpooledKafkaOutput implements FrameConsumer, Lifecycle, StatusReporter {
  private spool: DiskSpool | undefined;
  private sender: Promise<void> = Promise.resolve();
  private readonly stopSignal = new AbortController();
  private kafkaReady = false;
  /** Bytes of records one request may carry: within one record batch of the topic, and within request_max_bytes. */
  private requestBudgetBytes: number;

  constructor(
    private readonly config: MetricsOutputConfig,
    private readonly spoolDir: string,
    private readonly producer: MessageProducer,
    private readonly topicAdmin: TopicAdmin,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
  ) {
    this.requestBudgetBytes = Math.min(config.request_max_bytes, batchBudget(KAFKA_DEFAULT_MAX_MESSAGE_BYTES));
    metrics.bufferLimitBytes.set(config.spool.max_bytes);
  }

  statusRows(): StatusContribution[] {
    const stats = this.spool?.stats;
    return [
      {
        table: KAFKA_OUTPUTS_STATUS_TABLE,
        rows: [
          {
            output: 'metrics_kafka',
            topic: this.config.topic,
            connected: this.kafkaReady,
            frames_waiting: stats?.entries ?? 0,
            bytes_waiting: stats?.bytes ?? 0,
            buffer: `disk spool ${this.spoolDir}`,
          },
        ],
      },
    ];
  }

  async start(): Promise<void> {
    this.spool = await DiskSpool.open({
      dir: this.spoolDir,
      maxBytes: this.config.spool.max_bytes,
      segmentBytes: this.config.spool.segment_bytes,
      fsync: this.config.spool.fsync,
      onDrop: (drop) => this.dropped(drop),
    });
    const { entries, events, bytes } = this.spool.stats;
    if (entries > 0) this.logger.info({ dir: this.spoolDir, frames: entries, events, bytes }, 'spool holds frames from before the restart; sending them first');
    this.updateGauges();
    this.sender = this.sendLoop(this.spool).catch((error: unknown) => {
      // Only stopping closes the spool under the sender; anything else is a bug worth a loud log.
      if (!this.stopSignal.signal.aborted) this.logger.error({ err: errorMessage(error) }, 'metrics sender failed; frames stay spooled until restart');
    });
  }

  private dropped(drop: SpoolDrop): void {
    this.metrics.drop(drop.reason === 'size_cap' ? 'spool_full' : 'spool_corrupt', drop.events);
    this.logger.error(
      { dir: this.spoolDir, reason: drop.reason, frames: drop.entries, events: drop.events, bytes: drop.bytes },
      drop.reason === 'size_cap' ? 'spool full: dropped its oldest frames' : 'spool data corrupt: dropped the unreadable frames',
    );
  }

  /** Disk the spool uses (what `spool.max_bytes` caps), and the events in it not yet acknowledged by Kafka. */
  private updateGauges(): void {
    if (!this.spool) return;
    const { bytes, events } = this.spool.stats;
    this.metrics.bufferedBytes.set(bytes);
    this.metrics.queuedEvents.set(events);
  }

  async consumeFrame(frame: OutgoingFrame): Promise<void> {
    const spool = this.spool;
    if (spool === undefined || this.stopSignal.signal.aborted) throw new TributaryError('SHUTDOWN', 'metrics output is not running');
    await spool.append({ key: frame.key, value: frame.frame.value, headers: frame.frame.headers, eventCount: frame.frame.eventCount });
    this.metrics.eventsIn.inc(frame.frame.eventCount);
    this.updateGauges();
    // Durably spooled is as far as a scrape can be protected; the sender takes it from here.
    frame.onDelivered({ status: 'delivered' });
  }

  /** Connects (and creates the topic) with retries, so the agent runs and spools while Kafka is unreachable. */
  private async connect(): Promise<boolean> {
    const signal = this.stopSignal.signal;
    if (signal.aborted) return false;
    try {
      await retry(
        async () => {
          try {
            if (this.config.create_topic) await this.topicAdmin.ensureTopics([{ topic: this.config.topic, partitions: this.config.partitions }]);
            const maxMessageBytes = await this.readMaxMessageBytes();
            await this.producer.connect();
            this.requestBudgetBytes = Math.min(this.config.request_max_bytes, batchBudget(maxMessageBytes));
          } catch (error) {
            this.metrics.error('kafka_unavailable');
            throw error;
          }
        },
        {
          policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff },
          signal,
          // Whatever fails, scrapes keep going to the spool; connecting is tried again until stop.
          classify: () => 'retry',
          onRetry: (_attempt, delayMs, error) =>
            this.logger.warn(
              { topic: this.config.topic, retry_in_ms: delayMs, err: errorMessage(error) },
              refusedCredentials(error)
                ? 'Kafka refused the connection; spooling metrics until it accepts'
                : deniedAccess(error)
                  ? 'Kafka denied access; spooling metrics until the ACL is granted'
                  : 'Kafka unreachable; spooling metrics until it is back',
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
    }
    return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  }

  private async sendLoop(spool: DiskSpool): Promise<void> {
    this.kafkaReady = await this.connect();
    while (this.kafkaReady && !this.stopSignal.signal.aborted) {
      const entries = await spool.read({ maxEntries: MAX_FRAMES_PER_REQUEST, maxBytes: this.requestBudgetBytes });
      const last = entries.at(-1);
      if (last === undefined) {
        await spool.waitForData(this.stopSignal.signal);
        continue;
      }
      const outcomes = await produceFramesSized(entries, {
        producer: this.producer,
        topic: this.config.topic,
        retry: this.config.retry,
        metrics: this.metrics,
        logger: this.logger,
        signal: this.stopSignal.signal,
        batchBudgetBytes: this.requestBudgetBytes,
      });
      // Aborted: unacknowledged, so the frames are sent again after the next start. A failed frame was counted
      // as a drop where it failed; a scrape cannot be read again, so it leaves the spool with the rest.
      if (outcomes.some((outcome) => outcome.status === 'aborted')) break;
      await spool.acknowledge(last.position);
      this.updateGauges();
    }
  }

  /**
   * Gives the sender up to drain_timeout to empty the spool, then stops it.
   * A produce request still in flight (Kafka away: the client retries it for
   * a long time) is not waited for: its frames are unacknowledged in the
   * spool and are sent again, with the same ids, after the next start.
   */
  async stop(): Promise<void> {
    const spool = this.spool;
    if (spool === undefined || this.stopSignal.signal.aborted) return;
    const deadline = Date.now() + this.config.drain_timeout;
    while (this.kafkaReady && spool.stats.entries > 0 && Date.now() < deadline) await sleep(50);
    this.stopSignal.abort();
    const senderDone = await Promise.race([this.sender.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    const left = spool.stats;
    if (left.entries > 0) {
      this.logger.warn(
        { dir: this.spoolDir, frames: left.entries, events: left.events, request_in_flight: !senderDone },
        'frames left in the spool; they are sent after the next start',
      );
    }
    await spool.close();
    await Promise.race([this.producer.disconnect(), sleep(STOP_GRACE_MS)]);
  }
}
