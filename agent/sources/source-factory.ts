import type { ComponentFactory, TypedSchema } from '../../shared/component/registry.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { MetricSourceDeps } from '../metric-families/emit.js';
import type { NamedSource } from '../source-supervisor.js';
import type { BatchConsumer } from '../../shared/pipeline/types.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';

/** What the agent hands a source of the log stream. */
export interface LogSourceDeps {
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  checkpoints: CheckpointStore;
  metrics: ComponentMetrics;
  logger: Logger;
}

export type { MetricSourceDeps };

/** A log-stream source: the checkpoint flusher asks it whether a file identity is still being read. */
export type CheckpointedSource = NamedSource & { isActive(identity: string): boolean };

/**
 * A source whose data can be read again (files): its frames go to the log stream's Kafka output, bounded in
 * memory, and its checkpoints move only behind Kafka's acknowledgements.
 */
export interface LogSourceFactory<Schema extends TypedSchema> extends ComponentFactory<Schema, LogSourceDeps, CheckpointedSource> {
  readonly stream: 'logs';
}

/** A source whose data cannot be read again (scrapes, host readings): its frames go through the disk spool. */
export interface MetricSourceFactory<Schema extends TypedSchema> extends ComponentFactory<Schema, MetricSourceDeps, NamedSource> {
  readonly stream: 'metrics';
}
