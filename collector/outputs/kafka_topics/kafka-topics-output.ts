import type { AckedProducer } from '../../../shared/kafka/producer.js';
import type { RecordSink, OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import type { KafkaTopicsOutputConfig } from './config.js';

/** Publishes normalized records for any Kafka consumer, with Kafka-native compression and acks=all. */
export class KafkaTopicsOutput implements RecordSink {
  constructor(
    readonly id: string,
    private readonly config: KafkaTopicsOutputConfig,
    private readonly producer: AckedProducer,
    private readonly metrics: ComponentMetrics,
  ) {}

  get topics(): Array<{ topic: string; partitions: number }> {
    return this.config.create_topics ? [{ topic: this.config.logs_topic, partitions: this.config.partitions }] : [];
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async write(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.metrics.eventsIn.inc(records.length);
    const timer = this.metrics.requestDuration.startTimer();
    try {
      await inSpan('kafka.produce', { 'messaging.destination.name': this.config.logs_topic, 'messaging.batch.message_count': records.length }, () =>
        this.producer.send(
          this.config.logs_topic,
          records.map((record) => ({ key: record.key, value: record.json })),
          this.config.compression,
        ),
      );
    } catch (error) {
      this.metrics.error('kafka_unavailable');
      throw error;
    } finally {
      timer();
    }
    let bytes = 0;
    for (const record of records) bytes += record.json.length;
    this.metrics.eventsOut.inc(records.length);
    this.metrics.bytesOut.inc(bytes);
    this.metrics.batchesOut.inc();
  }

  async stop(): Promise<void> {
    // The producer is shared and closed by the collector.
  }
}
