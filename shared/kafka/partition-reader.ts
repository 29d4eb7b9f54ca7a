import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { TributaryError, errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { consumerConfig } from './consumer.js';
import { withSecurityErrors, type KafkaAccess, type KafkaAccessNeed } from './errors.js';

export interface PartitionMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  /** null is a tombstone. */
  readonly value: Buffer | null;
}

export interface ReadPartitionsRequest {
  topic: string;
  partitions: readonly number[];
  /** The reader's short-lived consumer group is named `<groupPrefix>.<random>`; its offsets are never committed. */
  groupPrefix: string;
  /** How long reading may take once the group is joined; past it the read fails, retriable. 60 s when unset. */
  timeoutMs?: number;
}

/**
 * Reads `partitions` of `topic` from their beginning to their end as it is when the read starts, handing every
 * message to `onMessage` in offset order within a partition. Meant for small compacted topics read back at
 * start-up or on a rebalance (alert state). kafkajs has no manual partition assignment, so a throwaway
 * consumer group reads the whole topic and other partitions are ignored; the group is deleted afterwards, as
 * its offsets are worth nothing and it would only clutter the group list. Rejects with a retriable
 * KAFKA_UNAVAILABLE when the end is not reached in time, and with `onMessage`'s error if it throws.
 */
export async function readPartitionsToEnd(
  kafka: Kafka,
  logger: Logger,
  access: KafkaAccess,
  request: ReadPartitionsRequest,
  onMessage: (message: PartitionMessage) => void,
): Promise<void> {
  const { topic, partitions, timeoutMs = 60_000 } = request;
  const needs: KafkaAccessNeed[] = [
    { resource: 'topic', names: [topic], operations: ['Read', 'Describe'] },
    { resource: 'group', names: [`${request.groupPrefix}.`], operations: ['Read (prefixed)'] },
  ];
  const ends = await access.guard(needs, () => partitionEnds(kafka, topic, partitions));
  if (ends.size === 0) return;
  const groupId = `${request.groupPrefix}.${randomUUID()}`;
  const consumer = kafka.consumer(consumerConfig(groupId));
  const remaining = new Set(ends.keys());
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  await withSecurityErrors(() => consumer.connect());
  // A denied join crashes kafkajs' consumer silently: said here, so the read's timeout is not the only news.
  consumer.on(consumer.events.CRASH, (event) => {
    const denied = access.explain(event.payload.error, needs);
    if (denied !== undefined) rejectDone(denied);
  });
  try {
    await access.guard(needs, () => consumer.subscribe({ topics: [topic], fromBeginning: true }));
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined || !remaining.has(batch.partition)) return Promise.resolve();
        try {
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= end) break;
            onMessage({ partition: batch.partition, offset: message.offset, key: message.key, value: message.value });
          }
        } catch (error) {
          // The caller cannot use a partial read; thrown inside eachBatch it would only make kafkajs fetch again.
          remaining.clear();
          rejectDone(error);
          return Promise.resolve();
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last !== undefined && BigInt(last.offset) + 1n >= end) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) resolveDone();
        }
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TributaryError('KAFKA_UNAVAILABLE', `reading ${topic} timed out`, { retriable: true, context: { topic } })),
        timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch((error: unknown) => logger.warn({ topic, err: errorMessage(error) }, 'closing the partition reader failed'));
    // Not awaited: the read is done, and a broker slow to delete a group must not hold up the caller.
    void deleteGroup(kafka, logger, groupId);
  }
}

/** The end offset of each requested partition that holds anything; empty partitions need no reading. */
async function partitionEnds(kafka: Kafka, topic: string, partitions: readonly number[]): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await withSecurityErrors(() => admin.connect());
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(
      offsets
        .filter(({ partition, low, high }) => partitions.includes(partition) && BigInt(high) > BigInt(low))
        .map(({ partition, high }) => [partition, BigInt(high)]),
    );
  } finally {
    await admin.disconnect();
  }
}

async function deleteGroup(kafka: Kafka, logger: Logger, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (error) {
    logger.debug({ group: groupId, err: errorMessage(error) }, 'could not delete the partition reader group');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
