import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import type { KafkaCompression, MessageProducer, OutgoingMessage } from '../../../shared/kafka/producer.js';
import { AlertingMetrics } from '../alerting-metrics.js';
import { alertTopicSchema } from './config.js';
import { KafkaAlertPublisher } from './kafka-alert-publisher.js';
import { firingAlert, metricSample, resolvedAlert } from './test-support.js';

class FakeProducer implements MessageProducer {
  readonly sent: Array<{ topic: string; messages: readonly OutgoingMessage[]; compression: KafkaCompression | undefined }> = [];
  fail = false;
  connect(): Promise<void> {
    return Promise.resolve();
  }
  send(topic: string, messages: readonly OutgoingMessage[], compression?: KafkaCompression): Promise<void> {
    if (this.fail) return Promise.reject(new TributaryError('KAFKA_UNAVAILABLE', 'down', { retriable: true }));
    this.sent.push({ topic, messages, compression });
    return Promise.resolve();
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
}

describe('KafkaAlertPublisher', () => {
  it('produces one JSON record per state change keyed by fingerprint and resolves once acknowledged', async () => {
    const producer = new FakeProducer();
    const alerting = new AlertingMetrics(new Registry());
    const publisher = new KafkaAlertPublisher(alertTopicSchema.parse({}), producer, alerting.notifier('kafka'));
    const records = [firingAlert(), resolvedAlert()];
    await publisher.publish(records);
    await publisher.publish([]);
    expect(producer.sent).toEqual([
      { topic: 'tributary.alerts', compression: 'zstd', messages: records.map((record) => ({ key: '9f86d081884c7d65', value: JSON.stringify(record) })) },
    ]);
    expect(publisher.topicSpec).toEqual({ topic: 'tributary.alerts', partitions: 3 });
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'kafka', outcome: 'sent' })).toBe(2);
  });

  it('rejects with the producer error and counts the failure', async () => {
    const producer = new FakeProducer();
    producer.fail = true;
    const alerting = new AlertingMetrics(new Registry());
    const publisher = new KafkaAlertPublisher(alertTopicSchema.parse({ topic: 'alerts', create_topic: false }), producer, alerting.notifier('kafka'));
    await expect(publisher.publish([firingAlert()])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'kafka', outcome: 'failed' })).toBe(1);
    expect(publisher.topicSpec).toBeUndefined();
  });
});
