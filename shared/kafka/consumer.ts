import type { Consumer, IHeaders } from 'kafkajs';
import { retry, type RetryPolicy } from '../pipeline/retry.js';
import type { ConsumerTuning, KafkaClient } from './client.js';
import { isRetriableKafkaError } from './errors.js';

/** Tries of joining the group at start: about a minute of retriable metadata errors before the start fails. */
const SUBSCRIBE_RETRY: RetryPolicy = { initialMs: 250, maxMs: 5_000, maxAttempts: 15 };

export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
}

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly ConsumedMessage[];
  /** Messages in the partition after this batch's last one (consumer lag at fetch time). */
  readonly lagMessages: number;
  /** Marks everything up to and including `offset` as processed; committed by the group shortly after. */
  markProcessed(offset: string): Promise<void>;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop processing this batch. */
  shouldContinue(): boolean;
}

export interface GroupConsumerOptions extends ConsumerTuning {
  groupId: string;
  topics: readonly string[];
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  /** How often processed offsets are committed. */
  commitIntervalMs: number;
  /**
   * Called after every rebalance with the partitions this member now owns, by topic, before any batch of the
   * new assignment: components keeping per-partition state drop what moved away and load what arrived.
   */
  onAssignment?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
}

export function flattenHeaders(headers: IHeaders | undefined): Record<string, Buffer | undefined> {
  const flat: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    flat[name] = first === undefined ? undefined : Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return flat;
}

/**
 * A consumer-group member that commits only what the handler marked processed
 * (kafkajs `eachBatch` with manual `resolveOffset`), never what was merely
 * fetched. On rebalance or stop, kafkajs commits the resolved offsets, so a
 * partition moving to another collector resumes exactly after the last record
 * every output accepted.
 */
export class GroupConsumer {
  private readonly consumer: Consumer;
  private readonly stopping = new AbortController();

  constructor(
    client: KafkaClient,
    private readonly options: GroupConsumerOptions,
  ) {
    this.consumer = client.consumer(options.groupId, options);
  }

  async start(handler: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    const onAssignment = this.options.onAssignment;
    if (onAssignment !== undefined) {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => onAssignment(event.payload.memberAssignment));
    }
    // Right after the topics were created, or while a broker restarts, metadata can still say "this server does
    // not host this topic-partition" once kafkajs' own retries ran out: that is a moment, not a configuration
    // mistake, so joining is tried again (for about a minute) instead of failing the process's start.
    await retry(
      async () => {
        await this.consumer.connect();
        await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning });
      },
      {
        policy: SUBSCRIBE_RETRY,
        signal: this.stopping.signal,
        classify: (error) => (isRetriableKafkaError(error) ? 'retry' : 'fail'),
      },
    );
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const last = batch.messages[batch.messages.length - 1];
        const lag = last ? Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n) : 0;
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          lagMessages: Math.max(0, lag),
          messages: batch.messages.map((message) => ({
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: flattenHeaders(message.headers),
          })),
          markProcessed: async (offset) => {
            payload.resolveOffset(offset);
            await payload.commitOffsetsIfNecessary();
          },
          heartbeat: () => payload.heartbeat(),
          shouldContinue: () => payload.isRunning() && !payload.isStale(),
        });
      },
    });
  }

  /** Waits for the batch in progress, commits processed offsets and leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect();
  }
}
