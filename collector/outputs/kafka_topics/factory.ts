import type { OutputFactory } from '../output-factory.js';
import { kafkaTopicsOutputSchema } from './config.js';
import { KafkaTopicsOutput } from './kafka-topics-output.js';

export const kafkaTopicsOutputFactory: OutputFactory<typeof kafkaTopicsOutputSchema> = {
  type: 'kafka_topics',
  description: 'publishes normalized log and metric records to Kafka topics, one JSON record per message',
  schema: kafkaTopicsOutputSchema,
  create: (id, config, deps) => new KafkaTopicsOutput(id, config, deps.producer, deps.metrics),
};
