import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertKeyState } from '../../collector/alerting/evaluator.js';
import { AlertStateStore } from '../../collector/alerting/state-store.js';
import { TributaryError } from '../../shared/errors.js';
import { createKafkaClient, type KafkaClient } from '../../shared/kafka/client.js';
import type { GroupConsumer, PartitionBatch } from '../../shared/kafka/consumer.js';
import type { PartitionMessage } from '../../shared/kafka/partition-reader.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { brokers, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';

/**
 * KafkaClient's interfaces against a real broker: everything the tiers get from Kafka goes through them, so
 * what they promise (commit only what was marked, stay in the group through a long handler, read partitions
 * back to their end, create topics once) is proven here, with plain kafkajs as the outside observer.
 */
describe('KafkaClient (real broker)', () => {
  let client: KafkaClient;
  let producer: MessageProducer;
  const admin = testKafka().admin();
  const consumers: GroupConsumer[] = [];

  beforeAll(async () => {
    client = createKafkaClient({ brokers: brokers(), connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'kafka-client-test');
    producer = client.messageProducer();
    await producer.connect();
    await admin.connect();
  });

  afterAll(async () => {
    // A failed test may leave a member running; stop() is what a failing test would otherwise hang on.
    await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
    await producer.disconnect();
    await admin.disconnect();
  });

  async function groupIds(prefix: string): Promise<string[]> {
    const { groups } = await admin.listGroups();
    return groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
  }

  async function committedOffset(groupId: string, topic: string): Promise<string | undefined> {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets?.partitions[0]?.offset;
  }

  it('topicAdmin: ensureTopics creates a topic once, and a fresh topic has the broker default max.message.bytes', async () => {
    const topic = uniqueName('client-admin');
    const topicAdmin = client.topicAdmin();
    expect(await topicAdmin.ensureTopics([{ topic, partitions: 2 }])).toEqual([topic]);
    expect(await topicAdmin.ensureTopics([{ topic, partitions: 5 }])).toEqual([]);
    expect(await topicAdmin.ensureTopics([])).toEqual([]);
    // The second call's partition count is ignored: an existing topic's layout is the operator's.
    expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions).toHaveLength(2);
    expect(await topicAdmin.maxMessageBytes(topic)).toBe(1_048_588);
  });

  it('groupConsumer commits only what was marked processed, stays in the group through a long handler, and a successor resumes after the mark', async () => {
    const topic = uniqueName('client-group');
    const groupId = uniqueName('client-group');
    await client.topicAdmin().ensureTopics([{ topic, partitions: 1 }]);
    const values = Array.from({ length: 10 }, (_, index) => `m${index}`);
    await producer.send(
      topic,
      values.map((value) => ({ key: 'k', value })),
    );

    const sessionTimeoutMs = 6_000;
    const options = {
      groupId,
      topics: [topic],
      fromBeginning: true,
      partitionsConsumedConcurrently: 1,
      commitIntervalMs: 100,
      sessionTimeoutMs,
      heartbeatIntervalMs: 500,
      maxWaitTimeMs: 100,
    };

    // The first member marks offsets 0..4 only, after holding its first batch longer than the session timeout:
    // without the consumer's own heartbeats the broker would evict it, and a second assignment would follow.
    const firstAssignments: Array<Readonly<Record<string, readonly number[]>>> = [];
    const firstSeen: string[] = [];
    let held = false;
    const first = client.groupConsumer({ ...options, onAssignment: (assignment) => firstAssignments.push(assignment) });
    consumers.push(first);
    let sawLast!: () => void;
    const lastSeen = new Promise<void>((resolve) => (sawLast = resolve));
    await first.start(async (batch: PartitionBatch) => {
      firstSeen.push(...batch.messages.map((message) => message.offset));
      if (!held) {
        held = true;
        await new Promise((resolve) => setTimeout(resolve, sessionTimeoutMs + 1_500));
      }
      if (batch.messages.some((message) => message.offset === '4')) await batch.markProcessed('4');
      if (batch.messages.some((message) => message.offset === '9')) sawLast();
    });
    await lastSeen;
    await first.stop();

    expect(firstAssignments).toEqual([{ [topic]: [0] }]);
    expect(firstSeen).toContain('9');
    expect(await committedOffset(groupId, topic)).toBe('5');

    // The successor in the same group starts exactly after the last marked offset, and commits what it marks.
    const secondSeen: Array<{ offset: string; value: string | undefined }> = [];
    const second = client.groupConsumer(options);
    consumers.push(second);
    let sawAll!: () => void;
    const allSeen = new Promise<void>((resolve) => (sawAll = resolve));
    await second.start(async (batch) => {
      secondSeen.push(...batch.messages.map((message) => ({ offset: message.offset, value: message.value?.toString() })));
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await batch.markProcessed(last.offset);
      if (last?.offset === '9') sawAll();
    });
    await allSeen;
    await second.stop();

    expect(secondSeen).toEqual(values.slice(5).map((value, index) => ({ offset: String(index + 5), value })));
    expect(await committedOffset(groupId, topic)).toBe('10');
  });

  it('readPartitionsToEnd streams just the requested partitions to their end, in offset order, and deletes its group', async () => {
    const topic = uniqueName('client-read');
    const groupPrefix = uniqueName('client-read');
    await client.topicAdmin().ensureTopics([{ topic, partitions: 3 }]);
    // One request per partition: a request over several partitions of a fresh topic may be retried whole when
    // one partition is not ready yet, writing the others twice (at-least-once), and offsets are asserted exactly.
    await producer.send(topic, [
      { key: 'a', value: 'a1', partition: 0 },
      { key: 'b', value: 'b1', partition: 0 },
      { key: 'a', value: 'a2', partition: 0 },
      { key: 'b', value: null, partition: 0 },
    ]);
    await producer.send(topic, [
      { key: 'c', value: 'c1', partition: 1 },
      { key: 'c', value: 'c2', partition: 1 },
    ]);
    await producer.send(topic, [{ key: 'd', value: 'd1', partition: 2 }]);

    const read: Array<{ partition: number; offset: string; key: string | undefined; value: string | null }> = [];
    let groupsWhileReading: Promise<string[]> | undefined;
    await client.readPartitionsToEnd({ topic, partitions: [0, 1], groupPrefix, timeoutMs: 60_000 }, (message: PartitionMessage) => {
      groupsWhileReading ??= groupIds(groupPrefix);
      read.push({ partition: message.partition, offset: message.offset, key: message.key?.toString(), value: message.value?.toString() ?? null });
    });

    const byPartition = (partition: number) => read.filter((message) => message.partition === partition);
    expect(byPartition(0)).toEqual([
      { partition: 0, offset: '0', key: 'a', value: 'a1' },
      { partition: 0, offset: '1', key: 'b', value: 'b1' },
      { partition: 0, offset: '2', key: 'a', value: 'a2' },
      { partition: 0, offset: '3', key: 'b', value: null },
    ]);
    expect(byPartition(1)).toEqual([
      { partition: 1, offset: '0', key: 'c', value: 'c1' },
      { partition: 1, offset: '1', key: 'c', value: 'c2' },
    ]);
    expect(read).toHaveLength(6);
    // Folded as the alert state store does: the latest value per key, tombstoned keys gone.
    const latest = new Map<string, string>();
    for (const message of read) {
      if (message.value === null) latest.delete(message.key ?? '');
      else latest.set(message.key ?? '', message.value);
    }
    expect(Object.fromEntries(latest)).toEqual({ a: 'a2', c: 'c2' });

    expect(await groupsWhileReading).toHaveLength(1);
    await waitFor('the reader group to be deleted', async () => ((await groupIds(groupPrefix)).length === 0 ? true : undefined), 30_000);
  });

  it('readPartitionsToEnd fails retriable with KAFKA_UNAVAILABLE when the end is not reached in time, and still deletes its group', async () => {
    const topic = uniqueName('client-read-timeout');
    const groupPrefix = uniqueName('client-read-timeout');
    await client.topicAdmin().ensureTopics([{ topic, partitions: 1 }]);
    await producer.send(topic, [{ key: 'a', value: 'a1' }]);

    // Joining a group alone takes longer than a millisecond.
    const error = await client.readPartitionsToEnd({ topic, partitions: [0], groupPrefix, timeoutMs: 1 }, () => undefined).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('KAFKA_UNAVAILABLE');
    expect((error as TributaryError).retriable).toBe(true);
    await waitFor('the reader group to be deleted', async () => ((await groupIds(groupPrefix)).length === 0 ? true : undefined), 30_000);
  });

  it('readPartitionsToEnd of partitions with nothing in them returns at once, without a group', async () => {
    const topic = uniqueName('client-read-empty');
    const groupPrefix = uniqueName('client-read-empty');
    await client.topicAdmin().ensureTopics([{ topic, partitions: 2 }]);
    await producer.send(topic, [{ key: 'a', value: 'a1', partition: 1 }]);
    const read: PartitionMessage[] = [];
    await client.readPartitionsToEnd({ topic, partitions: [0], groupPrefix }, (message) => read.push(message));
    expect(read).toEqual([]);
    expect(await groupIds(groupPrefix)).toEqual([]);
  });

  it('the alert state store saves and loads back through the client: latest state per key of its partitions', async () => {
    const topic = uniqueName('client-state');
    await client.topicAdmin().ensureTopics([{ topic, partitions: 2, configs: { 'cleanup.policy': 'compact' } }]);
    const store = new AlertStateStore(client, topic, producer, uniqueName('client-state'));
    const state = (rule: string, lastSeen: number) => ({ rule, key: '', labels: {}, slices: {}, applied: {}, lastSeen }) as unknown as AlertKeyState;
    await store.save([
      { id: 'x', partition: 0, state: state('x', 1) },
      { id: 'y', partition: 0, state: state('y', 1) },
      { id: 'z', partition: 1, state: state('z', 1) },
    ]);
    await store.save([
      { id: 'x', partition: 0, state: state('x', 2) },
      { id: 'y', partition: 0, state: undefined },
    ]);
    expect(Object.fromEntries(await store.load([0]))).toEqual({ x: { partition: 0, state: state('x', 2) } });
  });
});
