import { z } from 'zod';
import { byteSize, duration } from '../../../shared/config/schema.js';

export const fileSourceSchema = z.strictObject({
  type: z.literal('file'),
  /** Glob patterns of files to tail (absolute, or relative to the working directory). */
  include: z.array(z.string().min(1)).min(1),
  exclude: z.array(z.string().min(1)).default([]),
  /** Where to start in a file found at start-up that has no checkpoint. Files appearing later are read from the beginning. */
  start_at: z.enum(['beginning', 'end']).default('beginning'),
  /** Lines longer than this are cut, flagged `truncated` and counted. */
  max_line_bytes: byteSize().default(256 * 1024),
  read_chunk_bytes: byteSize().default(64 * 1024),
  /** Safety net behind file-system events: how often files are re-checked for growth and new files searched. */
  poll_interval: duration().default(1_000),
  /** Labels copied onto every event; the collector puts them in the record's resource. */
  labels: z.record(z.string(), z.string()).default({}),
});

export type FileSourceConfig = z.output<typeof fileSourceSchema>;
