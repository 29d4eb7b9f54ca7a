import { z } from 'zod';

export const kafkaTopicsOutputSchema = z.strictObject({
  type: z.literal('kafka_topics'),
  /** Normalized log records (tributary.log.v1) go here, one JSON record per Kafka message. */
  logs_topic: z.string().min(1).default('tributary.logs'),
  /** Normalized metric records (tributary.metric.v1) go here, one JSON record (one data point) per Kafka message. */
  metrics_topic: z.string().min(1).default('tributary.metrics'),
  /** Create both topics at start-up when missing. */
  create_topics: z.boolean().default(true),
  partitions: z.number().int().min(1).default(6),
  /** Kafka-native batch compression; zstd is readable by every current client (librdkafka, Java, Spark). */
  compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
});

export type KafkaTopicsOutputConfig = z.output<typeof kafkaTopicsOutputSchema>;
