import { z } from 'zod';
import { duration, retrySchema } from '../../../shared/config/schema.js';
import { basicAuthSchema, checkEndpointsAuthTls, httpEndpointSchema, requestBatchSchema } from '../../../shared/http/http-config.js';
import { httpTlsSchema } from '../../../shared/http/tls.js';

/** A collection (or core) name as Solr accepts them; it becomes a URL path segment. */
const collectionName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, "_", "-" and "."; not starting with "-" or "."');

/** A Solr field name: what Solr's query parsers and `fl` handle without escaping. */
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,199}$/, 'letters, digits, "_" and "."; starting with a letter or "_"');

export const solrOutputSchema = z
  .strictObject({
    type: z.literal('solr'),
    /** Solr base URLs, up to `/solr` (`http://solr-1:8983/solr`); requests go round-robin, and away from a node that failed. */
    endpoints: z.array(httpEndpointSchema('http://localhost:8983/solr')).min(1),
    /** One collection (or standalone core) for every record, or one per record kind. */
    collection: z
      .union([collectionName, z.strictObject({ logs: collectionName.default('tributary'), metrics: collectionName.default('tributary') })])
      .default('tributary')
      .transform((value) => (typeof value === 'string' ? { logs: value, metrics: value } : value)),
    /** Sent as `commitWithin` with every update: documents are searchable (soft commit) at most this long after Solr took them; 0 sends none. */
    commit_within: duration().default(1_000).pipe(z.number().int().min(0)),
    /**
     * The update chain with TolerantUpdateProcessorFactory (the committed configset's `tolerant`): one bad document
     * fails alone. `false`, or a server without the chain (checked at start-up), falls back to splitting a refused request.
     */
    update_chain: z.union([z.string().min(1), z.literal(false)]).default('tolerant'),
    /** A write is split into update requests of at most this many bytes and documents. */
    batch: requestBatchSchema(2_000),
    /** Update requests in flight at once, across every partition the collector processes. */
    max_concurrent_requests: z.number().int().min(1).max(64).default(2),
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
        basic: basicAuthSchema,
      })
      .optional(),
    tls: httpTlsSchema.optional(),
    /** Which Solr field each part of a record goes to. */
    mapping: z
      .strictObject({
        /**
         * `dynamic`: every part of the record, into typed dynamic fields (`*_s`, `*_l`, `*_d`, `*_dt`, `*_b`, `*_t`, …)
         * unless `fields` names another field; `explicit`: only what `fields` names (for a schema without dynamic fields).
         */
        mode: z.enum(['dynamic', 'explicit']).default('dynamic'),
        /**
         * Record path → Solr field, or `false` to leave it out: `body: message_txt`, `resource.service.name: service_s`,
         * `attributes.http.response.status_code: status_i`. Paths are listed in the README.
         */
        fields: z.record(z.string().min(1), z.union([fieldName, z.literal(false)])).default({}),
        /** Longer values of `*_s` (string) fields are cut: Solr refuses a string term over 32,766 bytes. */
        max_string_chars: z.number().int().min(16).max(10_000).default(8_000),
      })
      .prefault({}),
  })
  .superRefine(checkEndpointsAuthTls);

export type SolrOutputConfig = z.output<typeof solrOutputSchema>;
