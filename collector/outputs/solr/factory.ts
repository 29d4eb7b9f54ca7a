import type { OutputFactory } from '../output-factory.js';
import { solrOutputSchema } from './config.js';
import { SolrSink } from './solr-sink.js';

export const solrOutputFactory: OutputFactory<typeof solrOutputSchema> = {
  type: 'solr',
  description: 'adds records to Solr collections as typed dynamic fields, idempotently by event id',
  schema: solrOutputSchema,
  create: (id, config, deps) => new SolrSink(id, config, deps.metrics, deps.logger),
};
