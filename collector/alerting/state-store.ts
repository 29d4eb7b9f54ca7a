import type { KafkaClient } from '../../shared/kafka/client.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
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
    private readonly client: Pick<KafkaClient, 'readPartitionsToEnd'>,
    private readonly topic: string,
    private readonly producer: MessageProducer,
    /** Prefix of the short-lived consumer groups that read partitions back. */
    private readonly groupPrefix: string,
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
   * each key (tombstoned keys left out). The state topic is compacted, so
   * this stays small. Fails retriable (KAFKA_UNAVAILABLE) when Kafka does not
   * deliver the partitions within `timeoutMs`.
   */
  async load(partitions: readonly number[], timeoutMs = 60_000): Promise<Map<string, { partition: number; state: AlertKeyState }>> {
    const states = new Map<string, { partition: number; state: AlertKeyState }>();
    await this.client.readPartitionsToEnd({ topic: this.topic, partitions, groupPrefix: `${this.groupPrefix}.restore`, timeoutMs }, (message) => {
      const id = message.key?.toString() ?? '';
      if (message.value === null) states.delete(id);
      else states.set(id, { partition: message.partition, state: JSON.parse(message.value.toString()) as AlertKeyState });
    });
    return states;
  }
}
