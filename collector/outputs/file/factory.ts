import type { OutputFactory } from '../output-factory.js';
import { fileOutputSchema } from './config.js';
import { FileSink } from './file-sink.js';

export const fileOutputFactory: OutputFactory<typeof fileOutputSchema> = {
  type: 'file',
  description: 'appends records as NDJSON to a local file, fsynced before a batch counts as accepted',
  schema: fileOutputSchema,
  create: (id, config, deps) => new FileSink(id, config, deps.metrics),
};
