import { z } from 'zod';
import { byteSize, duration } from '../../shared/config/schema.js';

export const framerSchema = z
  .strictObject({
    /** Uncompressed bytes per frame; the Kafka output re-frames a compressed frame still over the topic's max.message.bytes. */
    max_bytes: byteSize({ min: 1 }).default(1024 * 1024),
    max_events: z.number().int().min(1).default(10_000),
    /** How long a partial frame may wait for more events. */
    linger: duration().default(200),
  })
  .prefault({});

export type FramerConfig = z.output<typeof framerSchema>;
