import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeProducer } from '../../../shared/test-support/fake-producer.js';
import { AlertingMetrics } from '../alerting-metrics.js';
import { alertTopicSchema } from './config.js';
import { KafkaAlertPublisher } from './kafka-alert-publisher.js';
import { firingAlert, metricSample, resolvedAlert } from './test-support.js';

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
    producer.down = true;
    const alerting = new AlertingMetrics(new Registry());
    const publisher = new KafkaAlertPublisher(alertTopicSchema.parse({ topic: 'alerts', create_topic: false }), producer, alerting.notifier('kafka'));
    await expect(publisher.publish([firingAlert()])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'kafka', outcome: 'failed' })).toBe(1);
    expect(publisher.topicSpec).toBeUndefined();
  });
});
