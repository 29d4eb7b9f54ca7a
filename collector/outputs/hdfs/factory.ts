import type { OutputFactory } from '../output-factory.js';
import { hdfsOutputSchema } from './config.js';
import { HdfsSink } from './hdfs-sink.js';

export const hdfsOutputFactory: OutputFactory<typeof hdfsOutputSchema> = {
  type: 'hdfs',
  description: 'writes partitioned NDJSON files to HDFS over WebHDFS, named by Kafka offsets so a replay rewrites them',
  schema: hdfsOutputSchema,
  create: (id, config, deps) => new HdfsSink(id, config, deps.metrics, deps.logger),
};
