import { z } from 'zod';
import type { ProcessorFactory } from '../processor.js';
import { enrichOperationSchema } from './config.js';
import { createEnricher } from './enrich.js';

const enrichSection = z.object({
  /** Operations (add, rename, drop, redact) applied in order to every record (log records after parsing, metric records too). */
  enrich: z.array(enrichOperationSchema).default([]),
});

export const enrichProcessorFactory: ProcessorFactory<typeof enrichSection> = {
  type: 'enrich',
  description: 'adds, renames, drops and redacts attributes and resource keys of every record',
  schema: enrichSection,
  create: (_id, config, deps) => {
    const enrich = createEnricher(config.enrich);
    const metrics = deps.metrics();
    return {
      process({ record }) {
        const { redactions } = enrich(record);
        if (redactions > 0) metrics.redactions.inc(redactions);
      },
    };
  },
};
