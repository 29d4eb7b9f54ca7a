import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../shared/kafka/client.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { brokers, readTopic, uniqueName } from '../helpers/kafka.js';

/**
 * tulios/kafkajs#971 reports brokers rejecting batches from a plugged-in zstd
 * codec. Ours is proven both ways against a real broker and librdkafka (kcat):
 * kafkajs → broker → kcat, and kcat → broker → kafkajs.
 */
describe('Kafka-native zstd interop (real broker, librdkafka)', () => {
  const client = () => createKafkaClient({ brokers: brokers(), connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'zstd-test');
  const messages = Array.from({ length: 500 }, (_, index) => ({ key: `k${index % 7}`, value: JSON.stringify({ index, text: 'compressible '.repeat(20) }) }));

  it('the broker accepts zstd batches from kafkajs and kcat reads them', async () => {
    const topic = uniqueName('zstd-out');
    await client()
      .topicAdmin()
      .ensureTopics([{ topic, partitions: 2 }]);
    const producer = client().messageProducer();
    await producer.connect();
    await producer.send(topic, messages, 'zstd');
    await producer.disconnect();
    const read = execFileSync('kcat', ['-b', brokers().join(','), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n']).toString();
    const lines = read.trim().split('\n');
    expect(lines).toHaveLength(messages.length);
    expect(new Set(lines)).toEqual(new Set(messages.map((message) => `${message.key}\t${message.value}`)));
  });

  it('kafkajs decompresses zstd batches produced by librdkafka', async () => {
    const topic = uniqueName('zstd-in');
    await client()
      .topicAdmin()
      .ensureTopics([{ topic, partitions: 1 }]);
    const input = messages.map((message) => message.value).join('\n');
    execFileSync('kcat', ['-b', brokers().join(','), '-P', '-t', topic, '-z', 'zstd', '-X', 'linger.ms=50'], { input: `${input}\n` });
    const received = await readTopic(topic, messages.length);
    expect(received.map((message) => message.value.toString())).toEqual(messages.map((message) => message.value));
  });
});
