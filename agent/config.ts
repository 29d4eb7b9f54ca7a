import { hostname } from 'node:os';
import { z } from 'zod';
import { duration, telemetrySchema } from '../shared/config/schema.js';
import { kafkaConnectionSchema } from '../shared/kafka/config.js';
import { framerSchema } from './framer/config.js';
import { kafkaOutputSchema, metricsOutputSchema } from './outputs/kafka/config.js';
import { agentSourceSchema } from './sources/registry.js';

export const agentConfigSchema = z.strictObject({
  agent: z
    .strictObject({
      /** Identifies this agent in event ids; must be stable across restarts and unique per host. */
      id: z.string().min(1).default(hostname()),
      host_name: z.string().min(1).default(hostname()),
      /** Where checkpoints live; must survive restarts (a host path, or a volume for a sidecar). */
      data_dir: z.string().min(1).default('/var/lib/tributary'),
      checkpoint_interval: duration({ min: 1 }).default(1_000),
      /** Checkpoints of files not seen by any source for this long are forgotten. */
      checkpoint_expire_after: duration({ min: 1, max: 3650 * 86_400_000 }).default(24 * 3_600_000),
      /** How long SIGTERM may take before the process exits anyway. */
      shutdown_timeout: duration().default(30_000),
    })
    .prefault({}),
  kafka: kafkaConnectionSchema,
  sources: z
    .record(z.string().regex(/^[a-z0-9_]+$/, 'source ids are lower_snake_case'), agentSourceSchema)
    .refine((sources) => Object.keys(sources).length > 0, {
      message: 'at least one source is required',
    }),
  framer: framerSchema,
  /** Where log frames go (file sources). */
  output: kafkaOutputSchema,
  /** Where metric frames go (scrape and host metrics sources), through the disk spool. */
  metrics_output: metricsOutputSchema,
  telemetry: telemetrySchema,
});

export type AgentConfig = z.output<typeof agentConfigSchema>;
