import { z } from 'zod';
import { byteSize } from '../../shared/config/schema.js';

/** Segments per cap at least: the size cap drops whole segments, so this bounds one drop to a quarter of the spool. */
const MIN_SEGMENTS_PER_CAP = 4;
const MIN_SEGMENT_BYTES = 1024;

/** The disk spool in front of an output whose input cannot be re-read (see disk-spool.ts). */
export const spoolSchema = z
  .strictObject({
    /** Defaults to `<agent.data_dir>/spool/<output name>`; must survive restarts, and belong to one agent. */
    dir: z.string().min(1).optional(),
    /** Disk the spool may use; past it the oldest frames are dropped and counted. */
    max_bytes: byteSize({ min: 1 }).default(256 * 1024 * 1024),
    /** Size at which a segment file is rolled; the unit of deletion, and of dropping when the spool is full. */
    segment_bytes: byteSize({ min: 1 })
      .refine((bytes) => bytes >= MIN_SEGMENT_BYTES, { message: `must be at least ${MIN_SEGMENT_BYTES / 1024}KiB` })
      .default(4 * 1024 * 1024),
    /** Sync each append and acknowledgement to disk. Off: a power loss (not a process crash) may lose the latest frames uncounted. */
    fsync: z.boolean().default(true),
  })
  .superRefine((spool, ctx) => {
    if (spool.segment_bytes * MIN_SEGMENTS_PER_CAP > spool.max_bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['segment_bytes'],
        message: `must be at most a quarter of max_bytes (${spool.max_bytes} bytes), got ${spool.segment_bytes}: a full spool drops whole segments, so a larger one would drop too much at once`,
      });
    }
  })
  .prefault({});

export type SpoolConfig = z.output<typeof spoolSchema>;
