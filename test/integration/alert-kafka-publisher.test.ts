import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AlertingMetrics } from '../../collector/alerting/alerting-metrics.js';
import { alertTopicSchema } from '../../collector/alerting/notifiers/config.js';
import { KafkaAlertPublisher } from '../../collector/alerting/notifiers/kafka-alert-publisher.js';
import { firingAlert, metricSample, pendingAlert, resolvedAlert } from '../../collector/alerting/notifiers/test-support.js';
import { createKafkaClient, type KafkaClient } from '../../shared/kafka/client.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { brokers, readTopic, testKafka, uniqueName } from '../helpers/kafka.js';
import { alertRecordErrors } from '../helpers/schemas.js';

describe('KafkaAlertPublisher (real broker)', () => {
  const topic = uniqueName('alerts');
  let client: KafkaClient;
  let producer: MessageProducer;

  beforeAll(async () => {
    client = createKafkaClient({ brokers: brokers(), connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'alerts-test');
    producer = client.messageProducer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
  });

  it('publishes each state change as a schema-valid record keyed by fingerprint, in order within one partition', async () => {
    const alerting = new AlertingMetrics(new Registry());
    const publisher = new KafkaAlertPublisher(alertTopicSchema.parse({ topic }), producer, alerting.notifier('kafka'));
    expect(await client.topicAdmin().ensureTopics(publisher.topicSpec ? [publisher.topicSpec] : [])).toEqual([topic]);
    const other = firingAlert({ fingerprint: '0123456789abcdef', labels: { alertname: 'DiskFull', severity: 'warning' } });
    const firing = firingAlert();
    const records: AlertRecord[] = [pendingAlert(), firing, other, resolvedAlert(firing)];
    await publisher.publish(records.slice(0, 2));
    await publisher.publish(records.slice(2));

    const messages = await readTopic(topic, records.length);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
    const values = messages.map((message) => JSON.parse(message.value.toString('utf8')) as AlertRecord);
    for (const value of values) expect(alertRecordErrors(value)).toBeUndefined();
    const history = messages.filter((message) => message.key === firing.fingerprint);
    expect(new Set(history.map((message) => message.partition)).size).toBe(1);
    expect(history.map((message) => (JSON.parse(message.value.toString('utf8')) as AlertRecord).state)).toEqual(['pending', 'firing', 'resolved']);
    expect(values.filter((value) => value.fingerprint === other.fingerprint)).toEqual([other]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'kafka', outcome: 'sent' })).toBe(4);
  });
});
