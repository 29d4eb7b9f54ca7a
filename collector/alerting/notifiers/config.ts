import { z } from 'zod';
import { duration, retrySchema } from '../../../shared/config/schema.js';
import { basicAuthSchema, httpUrlSchema } from '../../../shared/http/http-config.js';
import { httpTlsSchema } from '../../../shared/http/tls.js';

/**
 * Configuration of the alert notifiers (`alertmanager`, `webhook`) and of the
 * `tributary.alerts` topic; `registry.ts` puts the notifier schemas together
 * as `alerting.notifiers.<id>`. Every default is written here and in the
 * README's "Alert notifiers" table; values can come from the environment through the
 * config loader's `${VAR}` interpolation (header values, tokens, URLs).
 */

/** Alertmanager URLs may carry no query (checked per schema below); a webhook's or a generatorURL's may. */
function httpUrl(example: string) {
  return httpUrlSchema(example, { query: true });
}

/** Basic auth or a bearer token, as Prometheus' alertmanager_config spells them; at most one. */
const authFields = {
  /** `password` inline (`${ENV}`), or `password_file`, re-read after a 401. */
  basic_auth: basicAuthSchema.optional(),
  /** Sent as `Authorization: Bearer <token>`; write `${ENV_VAR}` to take it from the environment. */
  bearer_token: z.string().min(1).optional(),
  /** A mounted secret holding the token; re-read after a 401. */
  bearer_token_file: z.string().min(1).optional(),
  tls: httpTlsSchema.optional(),
};

const deliveryRetrySchema = retrySchema(
  { initial_backoff: 500, max_backoff: 30_000 },
  {
    /** Sends of one batch (per URL) before it counts as failed; 1 = no retries. */
    max_attempts: z.number().int().min(1).max(100).default(5),
  },
);

/** Settings both HTTP notifiers share. */
const deliveryFields = {
  /** Whole-request deadline (connect, send, response); also the most `stop()` waits for the queue to drain. */
  timeout: duration({ min: 1 }).default(10_000),
  /** Alerts waiting for delivery; when full, the oldest is dropped and counted (`outcome="dropped"`). */
  queue_capacity: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Alerts per request; Prometheus sends at most 64 per request too. */
  max_batch_size: z.number().int().min(1).max(10_000).default(64),
  retry: deliveryRetrySchema,
  ...authFields,
};

function exclusiveAuth(config: { basic_auth?: unknown; bearer_token?: unknown; bearer_token_file?: unknown }, ctx: z.RefinementCtx): void {
  const set = [config.basic_auth, config.bearer_token, config.bearer_token_file].filter((value) => value !== undefined).length;
  if (set > 1) ctx.addIssue({ code: 'custom', path: ['basic_auth'], message: 'set at most one of basic_auth, bearer_token or bearer_token_file' });
}

function credentialsInUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

function hasAuth(config: { basic_auth?: unknown; bearer_token?: unknown; bearer_token_file?: unknown }): boolean {
  return config.basic_auth !== undefined || config.bearer_token !== undefined || config.bearer_token_file !== undefined;
}

export const alertmanagerNotifierSchema = z
  .strictObject({
    type: z.literal('alertmanager'),
    /**
     * Alertmanager base URLs (`http://am-0:9093`). Every batch goes to all of
     * them, as Prometheus does: an HA Alertmanager cluster deduplicates, and a
     * batch counts as sent when at least one accepted it.
     */
    urls: z.array(httpUrl('http://alertmanager:9093')).min(1),
    /** Put between each URL's own path and `/api/v2/alerts`, for an Alertmanager run with `--web.route-prefix`. */
    path_prefix: z
      .string()
      .regex(/^(\/[^/?#]+)*\/?$/, 'expected a path such as /alertmanager')
      .default('')
      .transform((prefix) => prefix.replace(/\/+$/, '')),
    /**
     * `endsAt` of a firing alert is now + resolve_timeout: Alertmanager
     * resolves the alert by itself if it hears nothing more by then (a
     * collector that died). It must be several times the evaluator's resend
     * interval, as Prometheus' 4 × resend delay (4 × 1m) is.
     */
    resolve_timeout: duration({ min: 1 })
      .default(4 * 60_000)
      .pipe(z.number().min(1_000, 'at least 1s')),
    /** Sent as every alert's `generatorURL` (the link in Alertmanager's UI and notifications); `{rule}` becomes the rule's name. */
    generator_url: httpUrl('https://grafana.example/d/alerts?rule={rule}').optional(),
    ...deliveryFields,
  })
  .superRefine((config, ctx) => {
    exclusiveAuth(config, ctx);
    config.urls.forEach((value, position) => {
      if (credentialsInUrl(value) && hasAuth(config)) {
        ctx.addIssue({ code: 'custom', path: ['urls', position], message: 'credentials in the URL and basic_auth/bearer_token are mutually exclusive' });
      }
      if (URL.canParse(value) && new URL(value).search !== '') ctx.addIssue({ code: 'custom', path: ['urls', position], message: 'a base URL has no query' });
    });
    // TLS settings that no request would use are a mistake, not a silent plaintext connection.
    if (config.tls !== undefined && !config.urls.some((value) => value.startsWith('https:')))
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is set but no URL uses https' });
  });

/** Header names are tokens (RFC 9110); `authorization` comes from basic_auth/bearer_token, `content-type` is always JSON. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name')
  .refine((name) => !['content-type', 'content-length', 'authorization', 'host'].includes(name.toLowerCase()), {
    message: 'content-type, content-length, authorization and host are set by Tributary (use basic_auth or bearer_token for authorization)',
  });

export const webhookNotifierSchema = z
  .strictObject({
    type: z.literal('webhook'),
    /** Receives `POST` (or `PUT`) with the JSON body described in the notifiers README. */
    url: httpUrl('https://hooks.example/tributary'),
    method: z.enum(['POST', 'PUT']).default('POST'),
    /** Extra request headers; values from the environment with `${VAR}`. */
    headers: z.record(headerName, z.string()).default({}),
    /** Also send `pending` alerts and the resolutions of alerts that never fired (Alertmanager never sees those). */
    send_pending: z.boolean().default(false),
    ...deliveryFields,
  })
  .superRefine((config, ctx) => {
    exclusiveAuth(config, ctx);
    if (credentialsInUrl(config.url) && hasAuth(config)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'credentials in the URL and basic_auth/bearer_token are mutually exclusive' });
    }
    if (config.tls !== undefined && !config.url.startsWith('https:'))
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is set but the URL is not https' });
  });

export type AlertmanagerNotifierConfig = z.output<typeof alertmanagerNotifierSchema>;
export type WebhookNotifierConfig = z.output<typeof webhookNotifierSchema>;
/** What the HTTP plumbing needs of either notifier's config. */
export type HttpDeliveryConfig = Pick<
  AlertmanagerNotifierConfig | WebhookNotifierConfig,
  'timeout' | 'queue_capacity' | 'max_batch_size' | 'retry' | 'basic_auth' | 'bearer_token' | 'bearer_token_file' | 'tls'
>;

/** The `tributary.alerts` topic: every alert state change, one `tributary.alert.v1` JSON record per message. */
export const alertTopicSchema = z
  .strictObject({
    topic: z.string().min(1).default('tributary.alerts'),
    /** Create the topic at start-up when missing (an existing topic is left as it is). */
    create_topic: z.boolean().default(true),
    partitions: z.number().int().min(1).default(3),
    /** Kafka-native batch compression, as the other normalized topics. */
    compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
  })
  .prefault({});

export type AlertTopicConfig = z.output<typeof alertTopicSchema>;
