import type { z } from 'zod';
import { ComponentRegistry, typedEntrySchema } from '../../shared/component/registry.js';
import { elasticsearchOutputFactory } from './elasticsearch/factory.js';
import { fileOutputFactory } from './file/factory.js';
import { hdfsOutputFactory } from './hdfs/factory.js';
import { kafkaTopicsOutputFactory } from './kafka_topics/factory.js';
import type { CollectorOutput, OutputDeps } from './output-factory.js';
import { solrOutputFactory } from './solr/factory.js';

/** Every collector output type, one line each; `outputs.<id>.type` is validated against and built from this list. */
export const collectorOutputs = new ComponentRegistry('output', [
  kafkaTopicsOutputFactory,
  fileOutputFactory,
  elasticsearchOutputFactory,
  solrOutputFactory,
  hdfsOutputFactory,
]);

/** The schema of one `outputs.<id>` entry. */
export const collectorOutputSchema = typedEntrySchema(collectorOutputs);

export type CollectorOutputConfig = z.output<typeof collectorOutputSchema>;

/** Builds a validated `outputs.<id>` entry with its type's factory; an unregistered type throws, never falls through. */
export function createOutput(id: string, config: CollectorOutputConfig, deps: OutputDeps): CollectorOutput {
  const factory = collectorOutputs.get(config.type);
  // The factory was found by this config's own `type`, which its schema produced: it takes exactly this config.
  // TypeScript cannot correlate the two unions (the factory's and the config's), hence the cast.
  return factory.create(id, config as never, deps);
}
