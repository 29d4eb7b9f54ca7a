import kafkajs, { type Admin, type ITopicMetadata, type Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaAccess } from './errors.js';
import { topicAdminFor } from './topics.js';

const access = new KafkaAccess(() => 'User:test');

const { KafkaJSAggregateError, KafkaJSProtocolError } = kafkajs;

/** The per-topic error kafkajs puts in a CreateTopics aggregate, as it decodes one from the broker's answer. */
function topicError(type: string): InstanceType<typeof KafkaJSProtocolError> {
  return Object.assign(new KafkaJSProtocolError(type), { type });
}

/**
 * An admin client whose CreateTopics fails with `createError`; metadata says every topic has a leader, and
 * ListOffsets answers with `offsetAnswers` in turn (then succeeds), as a leader not yet serving its partition does.
 */
function fakeKafka(createError: Error | undefined, offsetAnswers: Error[] = []): { kafka: Kafka; created: string[][]; offsetRequests: string[] } {
  const created: string[][] = [];
  const offsetRequests: string[] = [];
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    listTopics: () => Promise.resolve([]),
    createTopics: ({ topics }: { topics: { topic: string }[] }) => {
      created.push(topics.map(({ topic }) => topic));
      return createError === undefined ? Promise.resolve(true) : Promise.reject(createError);
    },
    fetchTopicOffsets: (topic: string) => {
      offsetRequests.push(topic);
      const answer = offsetAnswers.shift();
      return answer === undefined ? Promise.resolve([{ partition: 0, offset: '0', high: '0', low: '0' }]) : Promise.reject(answer);
    },
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({
        topics: topics.map((name): ITopicMetadata => ({
          name,
          partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }],
        })),
      }),
  };
  // Only the admin methods topics.ts calls exist on the fake; the cast is the test seam.
  return { kafka: { admin: () => admin as unknown as Admin } as unknown as Kafka, created, offsetRequests };
}

describe('TopicAdmin.ensureTopics', () => {
  it('a request mixing "already exists" with "timed out" (the controller goes on creating) waits for the leaders instead of failing', async () => {
    const { kafka, created } = fakeKafka(
      new KafkaJSAggregateError('Topic creation errors', [topicError('TOPIC_ALREADY_EXISTS'), topicError('REQUEST_TIMED_OUT')]),
    );
    await expect(
      topicAdminFor(kafka, access).ensureTopics([
        { topic: 'a', partitions: 3 },
        { topic: 'b', partitions: 3 },
      ]),
    ).resolves.toEqual(['a', 'b']);
    expect(created).toEqual([['a', 'b']]);
  });

  it('a topic the broker refuses to create fails the start with the broker’s error', async () => {
    const refusal = new KafkaJSAggregateError('Topic creation errors', [topicError('TOPIC_ALREADY_EXISTS'), topicError('INVALID_REPLICATION_FACTOR')]);
    const { kafka } = fakeKafka(refusal);
    await expect(
      topicAdminFor(kafka, access).ensureTopics([
        { topic: 'a', partitions: 3 },
        { topic: 'b', partitions: 3 },
      ]),
    ).rejects.toBe(refusal);
  });

  it('a topic the authorizer will not let us create fails naming the ACLs and the principal, retriable', async () => {
    const { kafka } = fakeKafka(new KafkaJSAggregateError('Topic creation errors', [Object.assign(topicError('TOPIC_AUTHORIZATION_FAILED'), { topic: 'b' })]));
    const failure = topicAdminFor(kafka, access).ensureTopics([{ topic: 'b', partitions: 1 }]);
    await expect(failure).rejects.toMatchObject({
      code: 'KAFKA_ACCESS_DENIED',
      retriable: true,
      message: 'Kafka denied TOPIC_AUTHORIZATION_FAILED on topic b: grant Describe and Create on topic b to principal User:test (see README "Kafka security")',
    });
  });

  it('an error that is not a per-topic answer (the connection) is not forgiven', async () => {
    const lost = new Error('Connection error');
    const { kafka } = fakeKafka(lost);
    await expect(topicAdminFor(kafka, access).ensureTopics([{ topic: 'a', partitions: 1 }])).rejects.toBe(lost);
  });

  it('waits until each leader named in metadata answers for its partitions (NOT_LEADER_OR_FOLLOWER is retried, not returned)', async () => {
    // kafkajs' protocol errors are retriable unless their definition says otherwise.
    const notLeader = () =>
      Object.assign(new KafkaJSProtocolError('This server is not the leader for that topic-partition'), { type: 'NOT_LEADER_OR_FOLLOWER' });
    const { kafka, offsetRequests } = fakeKafka(undefined, [notLeader(), notLeader()]);
    await expect(
      topicAdminFor(kafka, access).ensureTopics([
        { topic: 'a', partitions: 1 },
        { topic: 'b', partitions: 1 },
      ]),
    ).resolves.toEqual(['a', 'b']);
    // Two refusals of topic a, then a and b answer.
    expect(offsetRequests).toEqual(['a', 'a', 'a', 'b']);
  });

  it('a leader that answers with a permanent error ends the wait: the leader is there, the answer is for the request that needs it', async () => {
    const denied = Object.assign(new KafkaJSProtocolError('Not authorized to access topics'), { type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
    const { kafka, offsetRequests } = fakeKafka(undefined, [denied]);
    await expect(topicAdminFor(kafka, access).ensureTopics([{ topic: 'a', partitions: 1 }])).resolves.toEqual(['a']);
    expect(offsetRequests).toEqual(['a']);
  });
});
