import { TributaryError } from '../../../shared/errors.js';
import { deniedAccess } from '../../../shared/kafka/errors.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { RecordSink, OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import type { KafkaTopicsOutputConfig } from './config.js';

/**
 * Publishes normalized records for any Kafka consumer, with Kafka-native
 * compression and acks=all: log records on `logs_topic`, metric records on
 * `metrics_topic`, so each topic holds one schema.
 */
export class KafkaTopicsOutput implements RecordSink {
  /** The broker's authorizer denied the last write (the pipeline retries it, offsets uncommitted): not ready until one succeeds. */
  private denied: TributaryError | undefined;

  constructor(
    readonly id: string,
    private readonly config: KafkaTopicsOutputConfig,
    private readonly producer: MessageProducer,
    private readonly metrics: ComponentMetrics,
  ) {}

  get topics(): Array<{ topic: string; partitions: number }> {
    if (!this.config.create_topics) return [];
    // One topic may be configured for both schemas.
    return [...new Set([this.config.logs_topic, this.config.metrics_topic])].map((topic) => ({ topic, partitions: this.config.partitions }));
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  ready(): boolean {
    return this.denied === undefined;
  }

  problem(): string | undefined {
    return this.denied?.message;
  }

  async write(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.metrics.eventsIn.inc(records.length);
    const logs: OutgoingRecord[] = [];
    const metrics: OutgoingRecord[] = [];
    for (const record of records) (record.record.schema === 'tributary.metric.v1' ? metrics : logs).push(record);
    const timer = this.metrics.requestDuration.startTimer();
    try {
      // Both sends must be acknowledged before the step's offsets may advance; a failure of either retries the whole batch.
      await Promise.all([this.send(this.config.logs_topic, logs), this.send(this.config.metrics_topic, metrics)]);
      this.denied = undefined;
    } catch (error) {
      if (deniedAccess(error)) this.denied = error as TributaryError;
      // The producer classified it: a refusal for good (KAFKA_REJECTED, FRAME_TOO_LARGE) is not an outage.
      this.metrics.error(error instanceof TributaryError && !error.retriable ? 'kafka_rejected' : 'kafka_unavailable');
      throw error;
    } finally {
      timer();
    }
    let bytes = 0;
    for (const record of records) bytes += record.json.length;
    this.metrics.eventsOut.inc(records.length);
    this.metrics.bytesOut.inc(bytes);
    this.metrics.batchesOut.inc((logs.length > 0 ? 1 : 0) + (metrics.length > 0 ? 1 : 0));
  }

  private async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await inSpan('kafka.produce', { 'messaging.destination.name': topic, 'messaging.batch.message_count': records.length }, () =>
      this.producer.send(
        topic,
        records.map((record) => ({ key: record.key, value: record.json })),
        this.config.compression,
      ),
    );
  }

  async stop(): Promise<void> {
    // The producer is shared and closed by the collector.
  }
}
