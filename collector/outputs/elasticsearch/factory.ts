import type { OutputFactory } from '../output-factory.js';
import { elasticsearchOutputSchema } from './config.js';
import { ElasticsearchSink } from './elasticsearch-sink.js';

export const elasticsearchOutputFactory: OutputFactory<typeof elasticsearchOutputSchema> = {
  type: 'elasticsearch',
  description: 'indexes records into Elasticsearch or OpenSearch with _bulk, idempotently by event id',
  schema: elasticsearchOutputSchema,
  create: (id, config, deps) => new ElasticsearchSink(id, config, deps.metrics, deps.logger),
};
