import type { FrameSchema } from '../frame/frame-codec.js';
import type { DropReason } from '../telemetry/metrics.js';

/**
 * What became of a batch: Kafka has every event (acks=all), or some were
 * refused for good (counted as drops with `reason`). A failed batch must not
 * advance a checkpoint: what is after it is re-read after a restart.
 */
export type DeliveryOutcome = { readonly status: 'delivered' } | { readonly status: 'failed'; readonly reason: DropReason };

/**
 * The contract between stages (STYLE.md, "between stages"): `consume` resolves
 * when the batch is *accepted* into a bounded buffer, which is how backpressure
 * reaches the sources. Delivery is reported separately through `onDelivered`,
 * called exactly once per batch, in order per key, after the downstream system
 * (Kafka, with acks=all) has every event of the batch, or with a failed outcome
 * when some of its events were refused for good.
 */
export interface EventBatch {
  /** Events with one key stay in order in one Kafka partition. */
  readonly key: string;
  readonly schema: FrameSchema;
  /** The events serialized as NDJSON, each line ending in "\n". */
  readonly ndjson: string;
  readonly eventCount: number;
  onDelivered(outcome: DeliveryOutcome): void;
}

export interface BatchConsumer {
  consume(batch: EventBatch): Promise<void>;
}

/** Start/stop contract: stop is idempotent and drains (stop reading, flush, wait for acks). */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}
