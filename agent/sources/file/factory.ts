import type { LogSourceFactory } from '../source-factory.js';
import { fileSourceSchema } from './config.js';
import { FileSource } from './file-source.js';

export const fileSourceFactory: LogSourceFactory<typeof fileSourceSchema> = {
  type: 'file',
  description: 'tails log files by glob, with checkpoints behind Kafka acknowledgements, rotation, multiline and container formats',
  schema: fileSourceSchema,
  stream: 'logs',
  create: (name, config, deps) => new FileSource(name, config, deps),
};
