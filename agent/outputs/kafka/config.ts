import { z } from 'zod';
import { byteSize, duration } from '../../../shared/config/schema.js';

export const kafkaOutputSchema = z
  .strictObject({
    topic: z.string().min(1).default('tributary.raw.logs'),
    /** Create the topic at start-up when it is missing, with this many partitions. */
    create_topic: z.boolean().default(true),
    partitions: z.number().int().min(1).default(6),
    /** Compressed frame bytes held in memory waiting for Kafka; sources stop reading above it. */
    buffer_max_bytes: byteSize().default(16 * 1024 * 1024),
    /** Bytes per produce request; one request is in flight at a time, which keeps frames ordered per key. */
    request_max_bytes: byteSize().default(4 * 1024 * 1024),
    retry: z
      .strictObject({
        initial_backoff: duration().default(200),
        max_backoff: duration().default(10_000),
      })
      .prefault({}),
    /** How long shutdown waits for Kafka to acknowledge what is buffered. */
    drain_timeout: duration().default(30_000),
  })
  .prefault({});

export type KafkaOutputConfig = z.output<typeof kafkaOutputSchema>;
