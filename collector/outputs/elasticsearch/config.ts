import { z } from 'zod';
import { duration, retrySchema } from '../../../shared/config/schema.js';
import { basicAuthSchema, checkEndpointsAuthTls, httpEndpointSchema, requestBatchSchema } from '../../../shared/http/http-config.js';
import { httpTlsSchema } from '../../../shared/http/tls.js';
import { parseNameTemplate, type NameTemplate } from './index-name.js';

/** A name template parsed at config time, so a typo fails at start-up with its key path. */
function nameTemplate(options: { dates: boolean }) {
  return z.string().transform((source, ctx): NameTemplate => {
    const parsed = parseNameTemplate(source, options);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A dataset or namespace: the data stream scheme keeps `-` for separating type, dataset and namespace. */
function streamPart(fallback: string) {
  return z
    .string()
    .min(1)
    .max(100)
    .refine((source) => !/-/.test(source.replace(/\{[^}]*\}/g, '')), { message: '"-" separates type, dataset and namespace; use "_" or "."' })
    .default(fallback)
    .pipe(nameTemplate({ dates: false }));
}

const endpoint = httpEndpointSchema('https://localhost:9200');

const DEFAULT_INDEX = { logs: 'tributary-logs-{yyyy.MM.dd}', metrics: 'tributary-metrics-{yyyy.MM.dd}' };

export const elasticsearchOutputSchema = z
  .strictObject({
    type: z.literal('elasticsearch'),
    /** Elasticsearch 7.10+/8/9 or OpenSearch 2.x nodes; requests go round-robin, and away from a node that failed. */
    endpoints: z.array(endpoint).min(1),
    /** `data_stream`: `<type>-<dataset>-<namespace>` data streams; `index`: dated indices named by `index`. */
    mode: z.enum(['data_stream', 'index']).default('data_stream'),
    data_stream: z
      .strictObject({
        /** Unset: `logs` for log records, `metrics` for metric records. */
        type: z.enum(['logs', 'metrics']).optional(),
        /** Literal or from the record, e.g. `{resource.service.name}`; a missing key renders as `generic`. */
        dataset: streamPart('generic'),
        /** Literal or from the record, e.g. `{resource.deployment.environment}`; a missing key renders as `default`. */
        namespace: streamPart('default'),
      })
      .prefault({}),
    /** Index mode: one template for every record, or one per record schema; times (`{yyyy.MM.dd}`) are the record timestamp's, in UTC. */
    index: z
      .union([
        z.string(),
        z.strictObject({
          logs: z.string().default(DEFAULT_INDEX.logs),
          metrics: z.string().default(DEFAULT_INDEX.metrics),
        }),
      ])
      .default(DEFAULT_INDEX)
      .transform((value) => (typeof value === 'string' ? { logs: value, metrics: value } : value))
      .pipe(z.strictObject({ logs: nameTemplate({ dates: true }), metrics: nameTemplate({ dates: true }) })),
    /** A write is split into bulk requests of at most this many (uncompressed) bytes and documents. */
    batch: requestBatchSchema(5_000),
    /** Bulk requests in flight at once, across every partition the collector processes. */
    max_concurrent_requests: z.number().int().min(1).max(64).default(2),
    compression: z.enum(['gzip', 'none']).default('gzip'),
    request_timeout: duration({ min: 1 }).default(30_000),
    retry: retrySchema(
      { initial_backoff: 1_000, max_backoff: 30_000 },
      {
        /** Sends of one record before it goes to the dead-letter topic; unset, records are retried while the collector runs. */
        max_attempts: z.number().int().min(1).optional(),
      },
    ),
    auth: z
      .strictObject({
        basic: basicAuthSchema.optional(),
        /** The `encoded` value Elasticsearch returns, or `id:api_key`. */
        api_key: z.string().min(1).optional(),
        api_key_file: z.string().min(1).optional(),
      })
      .refine((auth) => [auth.basic, auth.api_key, auth.api_key_file].filter((value) => value !== undefined).length === 1, {
        message: 'set exactly one of basic, api_key or api_key_file',
      })
      .optional(),
    tls: httpTlsSchema.optional(),
    /** Install component and index templates (mappings for the standard record) at start-up. */
    install_templates: z.boolean().default(true),
    /** Index settings added to the installed index templates, e.g. `index.lifecycle.name` or `index.number_of_replicas`. */
    template_settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** Ingest pipeline every document goes through; checked at start-up. */
    pipeline: z.string().min(1).optional(),
  })
  .superRefine(checkEndpointsAuthTls);

export type ElasticsearchOutputConfig = z.output<typeof elasticsearchOutputSchema>;
