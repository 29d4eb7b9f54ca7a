import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import { FakeProducer, rejected } from '../../../shared/test-support/fake-producer.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { kafkaTopicsOutputSchema } from './config.js';
import { KafkaTopicsOutput } from './kafka-topics-output.js';

const outgoing = (record: OutgoingRecord['record'], key: string): OutgoingRecord => ({
  record,
  json: JSON.stringify(record),
  key,
  origin: { topic: 'raw', partition: 0, offset: '0', event: 0 },
});

function output(config: Record<string, unknown> = {}) {
  const producer = new FakeProducer();
  const { families, metrics } = testComponentMetrics('sink');
  const sink = new KafkaTopicsOutput('normalized', kafkaTopicsOutputSchema.parse({ type: 'kafka_topics', ...config }), producer, metrics);
  return { sink, producer, families };
}

describe('KafkaTopicsOutput', () => {
  it('publishes log records on logs_topic and metric records on metrics_topic, in order, keyed as given', async () => {
    const { sink, producer, families } = output();
    const records = [
      outgoing(logRecord({ body: 'one' }), 'host.name=h'),
      outgoing(metricRecord({ name: 'up' }), 'job=api'),
      outgoing(logRecord({ body: 'two' }), 'host.name=h'),
      outgoing(metricRecord({ name: 'down' }), 'job=api'),
    ];
    await sink.write(records);
    const byTopic = Object.fromEntries(producer.sent.map(({ topic, messages }) => [topic, messages]));
    expect(Object.keys(byTopic).sort()).toEqual(['tributary.logs', 'tributary.metrics']);
    expect(byTopic['tributary.logs']).toEqual([records[0], records[2]].map((record) => ({ key: record?.key, value: record?.json })));
    expect(byTopic['tributary.metrics']).toEqual([records[1], records[3]].map((record) => ({ key: record?.key, value: record?.json })));
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(4);
    expect(await sampleValue(families, 'tributary_component_sent_batches_total')).toBe(2);
  });

  it('sends nothing to a topic with no records of its schema', async () => {
    const { sink, producer } = output({ logs_topic: 'l', metrics_topic: 'm' });
    await sink.write([outgoing(metricRecord(), 'k')]);
    expect(producer.sent.map(({ topic }) => topic)).toEqual(['m']);
  });

  it('fails the whole write when either topic fails, so the step is retried', async () => {
    const { sink, producer, families } = output();
    producer.failingTopics.add('tributary.metrics');
    await expect(sink.write([outgoing(logRecord(), 'k'), outgoing(metricRecord(), 'k')])).rejects.toMatchObject({ retriable: true });
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(0);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_unavailable' })).toBe(1);
  });

  it('counts a refusal for good as kafka_rejected, not as Kafka being away', async () => {
    const { sink, producer, families } = output();
    producer.refuse = () => rejected();
    await expect(sink.write([outgoing(logRecord(), 'k')])).rejects.toMatchObject({ retriable: false });
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_rejected' })).toBe(1);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_unavailable' })).toBe(0);
  });

  it('creates both topics at start, once when they are the same, none without create_topics', () => {
    expect(output().sink.topics).toEqual([
      { topic: 'tributary.logs', partitions: 6 },
      { topic: 'tributary.metrics', partitions: 6 },
    ]);
    expect(output({ logs_topic: 'all', metrics_topic: 'all', partitions: 2 }).sink.topics).toEqual([{ topic: 'all', partitions: 2 }]);
    expect(output({ create_topics: false }).sink.topics).toEqual([]);
  });
});
