import { hostname } from 'node:os';
import { z } from 'zod';
import { byteSize, duration, telemetrySchema } from '../shared/config/schema.js';
import { kafkaConnectionSchema } from '../shared/kafka/config.js';
import { alertingSchema } from './alerting/config.js';
import { collectorOutputSchema } from './outputs/registry.js';
import { processorConfigShape } from './processors/registry.js';

export const collectorConfigSchema = z
  .strictObject({
    collector: z
      .strictObject({
        /** The Kafka consumer group; every collector with the same id shares the raw topics' partitions. */
        group_id: z.string().min(1).default('tributary-collector'),
        instance_name: z.string().min(1).default(hostname()),
        /** Attributes added to every record's resource, e.g. { deployment.environment: prod }. */
        resource: z.record(z.string(), z.string()).default({}),
        shutdown_timeout: duration().default(30_000),
      })
      .prefault({}),
    kafka: kafkaConnectionSchema,
    input: z
      .strictObject({
        /** Raw topics; each frame's schema header (raw.log.v1, raw.metric.v1) decides how it is normalized, whatever its topic. */
        topics: z.array(z.string().min(1)).min(1).default(['tributary.raw.logs', 'tributary.raw.metrics']),
        /** Where a new consumer group starts: `earliest` reads what agents sent before the collector first ran. */
        start_offset: z.enum(['earliest', 'latest']).default('earliest'),
        /** A frame that decompresses past this goes to the dead-letter topic instead of exhausting memory. */
        max_frame_bytes: byteSize({ min: 1, max: 1024 ** 3 }).default(64 * 1024 * 1024),
        /** Decoded bytes of events handled per step before outputs must acknowledge (counted as frames are decoded; a large frame spans steps). */
        max_step_bytes: byteSize({ min: 1, max: 1024 ** 3 }).default(4 * 1024 * 1024),
        /** Events decoded per step; frames compress ~10-20×, so bytes alone would let a step hold hundreds of thousands. */
        // 10,000 measured best: at 20,000 a JSON worker peaked at 361 MiB RSS, at 10,000 at 260 MiB with equal throughput (bench:collector).
        max_step_events: z.number().int().min(1).default(10_000),
        partitions_concurrently: z.number().int().min(1).default(2),
        commit_interval: duration({ min: 1 }).default(1_000),
        /** How long the group waits for a silent member (a crashed collector) before moving its partitions. */
        session_timeout: duration({ min: 1 }).default(30_000),
        heartbeat_interval: duration({ min: 1 }).default(3_000),
      })
      .prefault({}),
    /** `parsers`, `enrich`, `routes`, `default_outputs`: each owned by its processor (collector/processors/registry.ts). */
    ...processorConfigShape,
    outputs: z
      .record(z.string().regex(/^[a-z0-9_]+$/, 'output ids are lower_snake_case'), collectorOutputSchema)
      .refine((outputs) => Object.keys(outputs).length > 0, { message: 'at least one output is required' }),
    dead_letter: z
      .strictObject({
        topic: z.string().min(1).default('tributary.dlq'),
        partitions: z.number().int().min(1).default(3),
      })
      .prefault({}),
    retry: z
      .strictObject({
        initial_backoff: duration({ min: 1 }).default(250),
        max_backoff: duration({ min: 1 }).default(30_000),
      })
      .prefault({}),
    /** Threshold alerting on metric and log records; off when absent. */
    alerting: alertingSchema.optional(),
    telemetry: telemetrySchema,
  })
  .superRefine((config, ctx) => {
    // Routes name outputs by id; a typo would silently send records nowhere, so it is a config error.
    const known = Object.keys(config.outputs);
    const check = (id: string, path: (string | number)[]): void => {
      if (!Object.hasOwn(config.outputs, id)) {
        ctx.addIssue({ code: 'custom', path, message: `unknown output "${id}"; outputs are: ${known.join(', ')}` });
      }
    };
    config.routes.forEach((route, index) => route.outputs.forEach((id, position) => check(id, ['routes', index, 'outputs', position])));
    config.default_outputs?.forEach((id, position) => check(id, ['default_outputs', position]));
  });

export type CollectorConfig = z.output<typeof collectorConfigSchema>;
