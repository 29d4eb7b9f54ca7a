import type { ComponentFactory, TypedSchema } from '../../shared/component/registry.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
import type { TopicSpec } from '../../shared/kafka/topics.js';
import type { RecordSink } from '../../shared/pipeline/record-sink.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';

/** What the collector hands an output; each type takes what it needs. */
export interface OutputDeps {
  /** The collector's producer, shared by every output that writes to Kafka (and by the dead-letter topic). */
  producer: MessageProducer;
  metrics: ComponentMetrics;
  /** Already carries `{ output: <id> }`. */
  logger: Logger;
}

/** A sink, and the Kafka topics it writes (created at start-up beside the raw and dead-letter topics). */
export interface CollectorOutput extends RecordSink {
  readonly topics?: readonly TopicSpec[];
}

export type OutputFactory<Schema extends TypedSchema> = ComponentFactory<Schema, OutputDeps, CollectorOutput>;
