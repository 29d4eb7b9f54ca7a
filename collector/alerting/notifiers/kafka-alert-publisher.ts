import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { TopicSpec } from '../../../shared/kafka/topics.js';
import type { AlertRecord } from '../../../shared/record/alert-record.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import type { NotifierMetrics } from '../alerting-metrics.js';
import type { AlertTopicConfig } from './config.js';

/**
 * Publishes every alert state change on the alerts topic: one
 * `tributary.alert.v1` JSON record per message, keyed by fingerprint so one
 * alert's history stays ordered in one partition. Unlike the HTTP notifiers it
 * has no queue: `publish` resolves once the broker acknowledged every record
 * (acks=all), so the evaluator can checkpoint its state after it, and rejects
 * with the producer's classified TributaryError otherwise.
 */
export class KafkaAlertPublisher {
  constructor(
    private readonly config: AlertTopicConfig,
    private readonly producer: MessageProducer,
    /** Counted as notifier `kafka` (or whatever id the view was made for); optional so tools can publish without metrics. */
    private readonly metrics?: NotifierMetrics,
  ) {}

  get topic(): string {
    return this.config.topic;
  }

  /** For `ensureTopics` at start-up; undefined with `create_topic: false`. */
  get topicSpec(): TopicSpec | undefined {
    return this.config.create_topic ? { topic: this.config.topic, partitions: this.config.partitions } : undefined;
  }

  async publish(records: readonly AlertRecord[]): Promise<void> {
    if (records.length === 0) return;
    const messages = records.map((record) => ({ key: record.fingerprint, value: JSON.stringify(record) }));
    const endTimer = this.metrics?.startRequest();
    try {
      await inSpan('kafka.produce', { 'messaging.destination.name': this.config.topic, 'messaging.batch.message_count': messages.length }, () =>
        this.producer.send(this.config.topic, messages, this.config.compression),
      );
    } catch (error) {
      this.metrics?.count('failed', records.length);
      throw error;
    } finally {
      endTimer?.();
    }
    this.metrics?.count('sent', records.length);
  }
}
