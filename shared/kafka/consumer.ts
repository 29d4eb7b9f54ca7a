import type { Batch, Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { TributaryError } from '../errors.js';
import { retry, type RetryPolicy } from '../pipeline/retry.js';
import { KafkaAccess, deniedAccess, isRetriableKafkaError, withSecurityErrors, type KafkaAccessNeed } from './errors.js';

/** Tries of joining the group at start: about a minute of retriable metadata errors before the start fails. */
const SUBSCRIBE_RETRY: RetryPolicy = { initialMs: 250, maxMs: 5_000, maxAttempts: 15 };
const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;

export interface ConsumerTuning {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeMs?: number;
}

export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
}

/**
 * One partition's fetched messages, handed to the handler of a GroupConsumer. The consumer keeps the member
 * alive in the group while the handler runs, however long it takes: the handler never heartbeats.
 */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly ConsumedMessage[];
  /** Messages in the partition after this batch's last one (consumer lag at fetch time). */
  readonly lagMessages: number;
  /**
   * Marks everything up to and including `offset` as processed; committed by the group shortly after. Rejects
   * when the group is rebalancing (after committing what was marked): the handler stops, the group rejoins.
   */
  markProcessed(offset: string): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop processing this batch. */
  shouldContinue(): boolean;
}

export type BatchHandler = (batch: PartitionBatch) => Promise<void>;

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
  /**
   * Called when the broker's authorizer denies the group or its topics (KAFKA_ACCESS_DENIED, naming the ACL to
   * grant); the member tries to join again after `retryInMs`, and again, until the ACL is there or it stops.
   */
  onDenied?: (error: TributaryError, retryInMs: number) => void;
  /** Spacing of those tries; default 1 s doubling to 30 s. */
  deniedRetry?: { initialMs: number; maxMs: number };
}

/**
 * A consumer-group member that commits only what the handler marked processed, never what was merely
 * fetched. On rebalance or stop, the offsets marked so far are committed, so a partition moving to another
 * member resumes exactly after the last record its handler finished.
 */
export interface GroupConsumer {
  /** Joins the group (retrying transient metadata errors for about a minute) and starts handing out batches. */
  start(handler: BatchHandler): Promise<void>;
  /** Waits for the batch in progress, commits processed offsets and leaves the group. */
  stop(): Promise<void>;
  /** Why the member does not consume now (the broker denied its group or topics); undefined while it does. */
  problem(): TributaryError | undefined;
}

export function flattenHeaders(headers: IHeaders | undefined): Record<string, Buffer | undefined> {
  const flat: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    flat[name] = first === undefined ? undefined : Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return flat;
}

/** The kafkajs consumer settings every group of ours uses; `tuning` fills in what the caller chose. */
export function consumerConfig(groupId: string, tuning: ConsumerTuning = {}): ConsumerConfig {
  return {
    groupId,
    // Topics are created by ensureTopics with their partition counts; never implicitly with broker defaults.
    allowAutoTopicCreation: false,
    sessionTimeout: tuning.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: tuning.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    maxBytesPerPartition: tuning.maxBytesPerPartition ?? 4 * 1024 * 1024,
    maxWaitTimeInMs: tuning.maxWaitTimeMs ?? 500,
  };
}

/** What `deliverBatch` uses of kafkajs' eachBatch payload: little enough for a unit test to fake. */
export type EachBatchLike = Pick<EachBatchPayload, 'resolveOffset' | 'commitOffsetsIfNecessary' | 'heartbeat' | 'isRunning' | 'isStale'> & {
  batch: Pick<Batch, 'topic' | 'partition' | 'highWatermark' | 'messages'>;
};

/**
 * Hands one kafkajs batch to `handler` as a PartitionBatch, heartbeating every `heartbeatIntervalMs` until
 * the handler returns. kafkajs heartbeats only between batches and when its caller asks; a handler can wait
 * minutes (a collector step waits for every output, and a sink may be down), and that wait is backpressure,
 * not a dead member: without the keep-alive the group would evict it and replay its partitions elsewhere.
 */
export async function deliverBatch(payload: EachBatchLike, handler: BatchHandler, heartbeatIntervalMs: number): Promise<void> {
  const { batch } = payload;
  const keepAlive = setInterval(() => {
    // During a rebalance the heartbeat fails (REBALANCE_IN_PROGRESS) after kafkajs committed what was marked.
    // Nothing useful can be done from a timer: the handler learns of it at its next markProcessed, and kafkajs
    // rejoins when the batch ends. Caught, as an unhandled rejection would end the process.
    payload.heartbeat().catch(() => undefined);
  }, heartbeatIntervalMs);
  try {
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
        // Awaited, unlike the keep-alive: a rebalance rejects here, so the handler stops at a boundary where
        // everything it did is marked, instead of working on for partitions that may already be elsewhere.
        await payload.heartbeat();
      },
      shouldContinue: () => payload.isRunning() && !payload.isStale(),
    });
  } finally {
    clearInterval(keepAlive);
  }
}

/**
 * kafkajs `eachBatch` with manual `resolveOffset`; kafkajs commits the resolved offsets on rebalance and stop.
 *
 * kafkajs gives up on a member whose join or fetch the broker's authorizer denied (a non-retriable crash: it
 * disconnects and stays stopped, silently). Here such a member is run again with a backoff, reporting the
 * denial meanwhile, so adding the missing ACL is enough: no restart, and offsets resume where they were.
 */
class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private readonly stopping = new AbortController();
  private readonly needs: readonly KafkaAccessNeed[];
  private denied: TributaryError | undefined;
  private rerunTimer: NodeJS.Timeout | undefined;
  private rerunDelayMs: number;
  private runConfig: ConsumerRunConfig = {};

  constructor(
    kafka: Kafka,
    private readonly options: GroupConsumerOptions,
    private readonly access: KafkaAccess,
  ) {
    this.consumer = kafka.consumer(consumerConfig(options.groupId, options));
    this.needs = [
      { resource: 'group', names: [options.groupId], operations: ['Read'] },
      { resource: 'topic', names: options.topics, operations: ['Read', 'Describe'] },
    ];
    this.rerunDelayMs = this.deniedRetry.initialMs;
  }

  private get deniedRetry(): { initialMs: number; maxMs: number } {
    return this.options.deniedRetry ?? { initialMs: 1_000, maxMs: 30_000 };
  }

  problem(): TributaryError | undefined {
    return this.denied;
  }

  /** A crash kafkajs will not restart from, because the authorizer denied it: run again later. */
  private onCrash(error: unknown, restarting: boolean): void {
    const denied = this.access.explain(error, this.needs);
    if (denied !== undefined && !restarting) this.scheduleRerun(denied);
  }

  /** Runs the member again after the backoff; `denied` (when the reason was a denial) is what readiness reports meanwhile. */
  private scheduleRerun(denied: TributaryError | undefined): void {
    if (this.stopping.signal.aborted) return;
    const delay = this.rerunDelayMs;
    this.rerunDelayMs = Math.min(this.rerunDelayMs * 2, this.deniedRetry.maxMs);
    if (denied !== undefined) {
      this.denied = denied;
      this.options.onDenied?.(denied, delay);
    }
    clearTimeout(this.rerunTimer);
    this.rerunTimer = setTimeout(() => void this.rerun(), delay);
  }

  private async rerun(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    try {
      await withSecurityErrors(() => this.consumer.connect());
      // A join the authorizer denies again ends in another crash event, which schedules the next try.
      await this.consumer.run(this.runConfig);
    } catch (error) {
      // Connecting failed (broker away, credentials refused): kafkajs emitted no crash event, so try again from here.
      this.scheduleRerun(this.access.explain(error, this.needs));
    }
  }

  async start(handler: BatchHandler): Promise<void> {
    const onAssignment = this.options.onAssignment;
    if (onAssignment !== undefined) {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => onAssignment(event.payload.memberAssignment));
    }
    // A fetch went through: joining and reading are allowed now (a join alone is not enough: Read on the topics
    // is checked at the first fetch).
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.denied = undefined;
      this.rerunDelayMs = this.deniedRetry.initialMs;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => this.onCrash(event.payload.error, event.payload.restart));
    // Right after the topics were created, or while a broker restarts, metadata can still say "this server does
    // not host this topic-partition" once kafkajs' own retries ran out: that is a moment, not a configuration
    // mistake, so joining is tried again (for about a minute) instead of failing the process's start.
    await retry(
      async () => {
        await withSecurityErrors(() => this.consumer.connect());
        await this.access.guard(this.needs, () => this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning }));
      },
      {
        policy: SUBSCRIBE_RETRY,
        signal: this.stopping.signal,
        classify: (error) => (isRetriableKafkaError(error) && !deniedAccess(error) ? 'retry' : 'fail'),
      },
    );
    const heartbeatIntervalMs = this.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.runConfig = {
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => deliverBatch(payload, handler, heartbeatIntervalMs),
    };
    await this.consumer.run(this.runConfig);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.rerunTimer);
    await this.consumer.disconnect();
  }
}

export function groupConsumerFor(kafka: Kafka, options: GroupConsumerOptions, access: KafkaAccess): GroupConsumer {
  return new KafkajsGroupConsumer(kafka, options, access);
}
