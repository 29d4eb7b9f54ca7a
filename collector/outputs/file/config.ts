import { z } from 'zod';

export const fileOutputSchema = z.strictObject({
  type: z.literal('file'),
  /** NDJSON file the records (log and metric alike) are appended to; its directory is created when missing. */
  path: z.string().min(1),
  /** fsync after every batch, so "accepted" means on disk (turn off only for throwaway demos). */
  fsync: z.boolean().default(true),
});

export type FileOutputConfig = z.output<typeof fileOutputSchema>;
