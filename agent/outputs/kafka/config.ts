import { z } from 'zod';
import { byteSize, duration } from '../../../shared/config/schema.js';
import { spoolSchema } from '../../spool/config.js';

const retrySchema = z
  .strictObject({
    initial_backoff: duration({ min: 1 }).default(200),
    max_backoff: duration({ min: 1 }).default(10_000),
  })
  .prefault({});

/** What every Kafka output of the agent has: where frames go and how requests are sized and retried. */
function kafkaOutputShape(defaultTopic: string) {
  return {
    topic: z.string().min(1).default(defaultTopic),
    /** Create the topic at start-up when it is missing, with this many partitions. */
    create_topic: z.boolean().default(true),
    partitions: z.number().int().min(1).default(6),
    /** Bytes per produce request; one request is in flight at a time, which keeps frames ordered per key. */
    request_max_bytes: byteSize({ min: 1024, max: 1024 ** 3 }).default(4 * 1024 * 1024),
    retry: retrySchema,
    /** How long shutdown waits for Kafka to acknowledge what is buffered (for metrics: to empty the spool; the rest stays spooled). */
    drain_timeout: duration().default(30_000),
  };
}

/** Log frames: files can be re-read, so when Kafka is slow the sources stop reading (no spool). */
export const kafkaOutputSchema = z
  .strictObject({
    ...kafkaOutputShape('tributary.raw.logs'),
    /** Compressed frame bytes held in memory waiting for Kafka; sources stop reading above it. */
    buffer_max_bytes: byteSize({ min: 1 }).default(16 * 1024 * 1024),
  })
  .prefault({});

export type KafkaOutputConfig = z.output<typeof kafkaOutputSchema>;

/** Metric frames: scrapes cannot be re-read, so every frame goes through the disk spool on its way to Kafka. */
export const metricsOutputSchema = z
  .strictObject({
    ...kafkaOutputShape('tributary.raw.metrics'),
    spool: spoolSchema,
  })
  .prefault({});

export type MetricsOutputConfig = z.output<typeof metricsOutputSchema>;
