import { randomUUID } from 'node:crypto';
import { TributaryError, errorMessage } from '../../shared/errors.js';
import type { KafkaClient } from '../../shared/kafka/client.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { AlertKeyState } from './evaluator.js';

export interface StoredState {
  readonly id: string;
  readonly partition: number;
  /** undefined: the alert was forgotten (a tombstone). */
  readonly state: AlertKeyState | undefined;
}

/**
 * Alert state checkpoints in a compacted Kafka topic, co-partitioned with the
 * partials topic (same partition count, each state written to the partition
 * its partials come from), so the collector that takes over a partials
 * partition finds the states of exactly its keys in the same partition number.
 */
export class AlertStateStore {
  constructor(
    private readonly client: KafkaClient,
    private readonly topic: string,
    private readonly producer: MessageProducer,
    /** Prefix of the short-lived consumer groups that read partitions back. */
    private readonly groupPrefix: string,
    private readonly logger: Logger,
  ) {}

  async save(entries: readonly StoredState[]): Promise<void> {
    if (entries.length === 0) return;
    await this.producer.send(
      this.topic,
      entries.map(({ id, partition, state }) => ({ key: id, partition, value: state === undefined ? null : JSON.stringify(state) })),
    );
  }

  /**
   * Reads `partitions` to their current end and returns the latest state of
   * each key (tombstoned keys left out). kafkajs has no manual partition
   * assignment, so a throwaway consumer group reads the topic and ignores
   * other partitions; the state topic is compacted, so this stays small.
   */
  async load(partitions: readonly number[], timeoutMs = 60_000): Promise<Map<string, { partition: number; state: AlertKeyState }>> {
    const states = new Map<string, { partition: number; state: AlertKeyState }>();
    const admin = this.client.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      ends = new Map(
        offsets
          .filter(({ partition, low, high }) => partitions.includes(partition) && BigInt(high) > BigInt(low))
          .map(({ partition, high }) => [partition, BigInt(high)]),
      );
    } finally {
      await admin.disconnect();
    }
    if (ends.size === 0) return states;
    const groupId = `${this.groupPrefix}.restore.${randomUUID()}`;
    const consumer = this.client.consumer(groupId);
    const remaining = new Set(ends.keys());
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition);
          if (end === undefined || !remaining.has(batch.partition)) return;
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= end) break;
            const id = message.key?.toString() ?? '';
            if (message.value === null) states.delete(id);
            else states.set(id, { partition: batch.partition, state: JSON.parse(message.value.toString()) as AlertKeyState });
          }
          const last = batch.messages[batch.messages.length - 1];
          if (last !== undefined && BigInt(last.offset) + 1n >= end) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) resolveDone();
          }
          await Promise.resolve();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TributaryError('KAFKA_UNAVAILABLE', `reading alert state from ${this.topic} timed out`, { retriable: true })),
          timeoutMs,
        );
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await consumer.disconnect().catch((error: unknown) => this.logger.warn({ err: errorMessage(error) }, 'closing the state reader failed'));
      void this.deleteGroup(groupId);
    }
    return states;
  }

  /** The reader's group holds no offsets worth keeping; leaving it would clutter the group list. */
  private async deleteGroup(groupId: string): Promise<void> {
    const admin = this.client.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch (error) {
      this.logger.debug({ group: groupId, err: errorMessage(error) }, 'could not delete the state reader group');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
