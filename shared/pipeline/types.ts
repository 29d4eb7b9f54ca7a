import type { FrameSchema } from '../frame/frame-codec.js';
import type { DropReason } from '../telemetry/metrics.js';

/**
 * What became of a batch: Kafka has every event (acks=all), or some were
 * refused for good (counted as drops with `reason` where they were refused).
 * What a source does with a failure is its own: the agent's file source holds
 * its checkpoint before the batch (agent/checkpoint/ack-tracker.ts), so a
 * restart reads it again.
 */
export type DeliveryOutcome = { readonly status: 'delivered' } | { readonly status: 'failed'; readonly reason: DropReason };

/**
 * The contract between stages (STYLE.md, "between stages"): `consume` resolves
 * when the batch is *accepted* into a bounded buffer, which is how backpressure
 * reaches the sources. Delivery is reported separately through `onDelivered`,
 * called exactly once per batch, after the downstream system (Kafka, with
 * acks=all) has every event of the batch, or with a failed outcome when some of
 * its events were refused for good. The order of these calls is not part of the
 * contract: a source that checkpoints orders outcomes itself (the agent's
 * AckTracker), so no stage has to keep acknowledgements in order for it.
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
