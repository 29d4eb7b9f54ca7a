/**
 * Does kafkajs 2.2.4 (last release 2023) still work against the broker we run?
 *
 * Kafka 4.0 removed many old protocol versions (KIP-896), and kafkajs picks
 * min(its newest implemented version, broker max) per API without looking at
 * the broker's minimum, so an API whose kafkajs ceiling fell below the new
 * floor would break only at the first call. These tests make each call the
 * pipeline relies on once, for real: produce with acks=-1, a consumer group
 * that commits, and the admin calls.
 *
 * The broker comes from KAFKA_BROKERS (a global setup, or by hand:
 * `node dist/deploy/dev/kafka/cli.js --version 3.9.2`). Every test uses its own topic and group names, so reruns against
 * a long-lived broker do not interfere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs, { type Consumer, type Kafka as KafkaClient, type Producer } from 'kafkajs';
import { createKafkaClient } from '../../shared/kafka/client.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from '../../shared/kafka/topics.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { brokers, uniqueName as sharedUniqueName, waitFor as waitForValue } from '../helpers/kafka.js';

const { CompressionTypes, ConfigResourceTypes, Kafka, Partitioners, logLevel } = kafkajs;
const uniqueName = (kind: string) => sharedUniqueName(`compat-${kind}`);
const waitFor = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
  waitForValue(what, async () => ((await condition()) ? true : undefined), timeoutMs);

const TEST_TIMEOUT_MS = 60_000;

describe('kafkajs 2.2.4 against the test broker', () => {
  const kafka = new Kafka({ clientId: 'tributary-compat', brokers: brokers(), logLevel: logLevel.ERROR, retry: { retries: 5 } });
  const admin = kafka.admin();
  // Closed in afterAll even when a test fails half-way, so vitest never hangs on a socket.
  const toDisconnect: Array<Producer | Consumer> = [];

  function producer(options: Parameters<KafkaClient['producer']>[0] = {}): Producer {
    // The explicit partitioner silences kafkajs' v2 partitioner warning.
    const created = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
    toDisconnect.push(created);
    return created;
  }

  function consumer(groupId: string): Consumer {
    // Short session/heartbeat so a failed test's member leaves the group quickly.
    const created = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 200 });
    toDisconnect.push(created);
    return created;
  }

  async function createTopic(partitions = 1): Promise<string> {
    const topic = uniqueName('topic');
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    return topic;
  }

  beforeAll(async () => {
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.allSettled(toDisconnect.map((client) => client.disconnect()));
    await admin.disconnect();
  });

  it(
    'admin: describeCluster, createTopics, listTopics, fetchTopicMetadata, describeConfigs, deleteTopics',
    async () => {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
      expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(cluster.controller).not.toBeNull();

      const topic = await createTopic(2);
      expect(await admin.listTopics()).toContain(topic);

      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics).toHaveLength(1);
      expect(metadata.topics[0]?.partitions).toHaveLength(2);
      for (const partition of metadata.topics[0]?.partitions ?? []) expect(partition.leader).toBeGreaterThanOrEqual(0);

      // A second create of the same topic resolves false (TOPIC_ALREADY_EXISTS) rather than throwing.
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] })).toBe(false);

      const configs = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      });
      expect(configs.resources[0]?.errorCode).toBe(0);
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('delete');

      // 13.4: the test broker keeps Kafka's default limit (agents must cope with it), and the agent's reading of it works.
      const topicAdmin = createKafkaClient({ brokers: brokers(), connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'compat').topicAdmin();
      expect(await topicAdmin.maxMessageBytes(topic)).toBe(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);

      await admin.deleteTopics({ topics: [topic], timeout: 15_000 });
      await waitFor('the deleted topic to leave listTopics', async () => !(await admin.listTopics()).includes(topic));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'produce with acks=-1 (plain and gzip), then fetchTopicOffsets sees them',
    async () => {
      const topic = await createTopic();
      const p = producer();
      await p.connect();

      const plain = await p.send({
        topic,
        acks: -1,
        messages: [
          { key: 'k1', value: 'v1', headers: { source: 'compat' } },
          { key: 'k2', value: 'v2' },
        ],
      });
      expect(plain).toHaveLength(1);
      expect(plain[0]?.errorCode).toBe(0);
      expect(plain[0]?.baseOffset).toBe('0');

      const gzip = await p.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: [{ value: 'gz'.repeat(1000) }],
      });
      expect(gzip[0]?.errorCode).toBe(0);
      expect(gzip[0]?.baseOffset).toBe('2');

      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets).toEqual([expect.objectContaining({ partition: 0, low: '0', high: '3', offset: '3' })]);
      await p.disconnect();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'idempotent producer (InitProducerId) with acks=-1',
    async () => {
      const topic = await createTopic();
      const p = producer({ idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      const result = await p.send({ topic, acks: -1, messages: [{ value: 'once' }, { value: 'twice' }] });
      expect(result[0]?.errorCode).toBe(0);
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets[0]?.high).toBe('2');
      await p.disconnect();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'consumer group: consume, commit explicitly, fetchOffsets, describeGroups, resume from the commit',
    async () => {
      const topic = await createTopic();
      const groupId = uniqueName('group');
      const p = producer();
      await p.connect();
      await p.send({ topic, acks: -1, messages: ['a', 'b', 'c', 'd', 'e'].map((value) => ({ key: value, value })) });

      const received: string[] = [];
      const first = consumer(groupId);
      await first.connect();
      await first.subscribe({ topics: [topic], fromBeginning: true });
      await first.run({
        autoCommit: false,
        eachMessage: async ({ topic: t, partition, message }) => {
          received.push(message.value?.toString() ?? '');
          // The committed offset is the NEXT offset to read.
          await first.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        },
      });
      await waitFor('5 messages', () => received.length >= 5);
      expect(received).toEqual(['a', 'b', 'c', 'd', 'e']);

      const [group] = (await admin.describeGroups([groupId])).groups;
      expect(group?.groupId).toBe(groupId);
      expect(group?.state).toBe('Stable');
      expect(group?.protocolType).toBe('consumer');
      expect(group?.members).toHaveLength(1);

      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(committed).toEqual([{ topic, partitions: [expect.objectContaining({ partition: 0, offset: '5' })] }]);
      await first.disconnect();

      // A new member of the same group starts at the commit, not at the beginning.
      await p.send({ topic, acks: -1, messages: [{ value: 'f' }] });
      const resumed: string[] = [];
      const second = consumer(groupId);
      await second.connect();
      await second.subscribe({ topics: [topic], fromBeginning: true });
      await second.run({
        eachMessage: ({ message }) => {
          resumed.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
      await waitFor('the message after the commit', () => resumed.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(resumed).toEqual(['f']);
      await second.disconnect();
      await p.disconnect();

      // After the last member left, the group is Empty and keeps its offsets (auto-commit on disconnect).
      const [after] = (await admin.describeGroups([groupId])).groups;
      expect(after?.state).toBe('Empty');
      const final = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(final[0]?.partitions[0]?.offset).toBe('6');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'consumer group with eachBatch and auto-commit, across two partitions',
    async () => {
      const topic = await createTopic(2);
      const groupId = uniqueName('group');
      const p = producer();
      await p.connect();
      const messages = Array.from({ length: 20 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
      await p.send({ topic, acks: -1, messages });

      const seen = new Set<string>();
      const c = consumer(groupId);
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommitInterval: 100,
        eachBatch: async (payload) => {
          for (const message of payload.batch.messages) {
            seen.add(message.value?.toString() ?? '');
            payload.resolveOffset(message.offset);
          }
          await payload.heartbeat();
        },
      });
      await waitFor('20 messages', () => seen.size >= 20);
      await c.disconnect();

      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = (committed[0]?.partitions ?? []).reduce((sum, partition) => sum + Number(partition.offset), 0);
      expect(total).toBe(20);
      await p.disconnect();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'transactional producer: send and commit (InitProducerId, AddPartitionsToTxn, EndTxn)',
    async () => {
      const topic = await createTopic();
      const p = producer({ transactionalId: uniqueName('txn'), idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      const transaction = await p.transaction();
      await transaction.send({ topic, acks: -1, messages: [{ value: 'in-txn' }] });
      await transaction.commit();
      // admin.fetchTopicOffsets reads with READ_COMMITTED, so `high` is the last
      // stable offset: it reaches 2 (record + commit marker) once the coordinator
      // has written the marker, which EndTxn does not wait for.
      await waitFor('the commit marker', async () => (await admin.fetchTopicOffsets(topic))[0]?.high === '2', 15_000);

      // A read_committed consumer (kafkajs' default) sees the committed record.
      const values: string[] = [];
      const c = consumer(uniqueName('group'));
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        eachMessage: ({ message }) => {
          values.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
      await waitFor('the transactional record', () => values.length >= 1);
      expect(values).toEqual(['in-txn']);
      await c.disconnect();
      await p.disconnect();
    },
    TEST_TIMEOUT_MS,
  );
});
