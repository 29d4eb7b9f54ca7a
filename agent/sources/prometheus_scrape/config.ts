import { z } from 'zod';
import { byteSize, duration } from '../../../shared/config/schema.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;

/** A regular expression compiled at config time, so a typo fails at start-up with the key path. */
function regex() {
  return z.string().superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${error instanceof Error ? error.message : String(error)}` });
    }
  });
}

/**
 * `metric_relabel_configs` as Prometheus has them, for the actions that keep,
 * drop and rewrite series: keep, drop, replace, labeldrop, labelkeep, labelmap.
 * Regexes are fully anchored like Prometheus's.
 */
export const relabelRuleSchema = z
  .strictObject({
    action: z.enum(['replace', 'keep', 'drop', 'labeldrop', 'labelkeep', 'labelmap']).default('replace'),
    source_labels: z.array(z.string().regex(LABEL_NAME, 'label names match [a-zA-Z_][a-zA-Z0-9_]*')).default([]),
    separator: z.string().default(';'),
    regex: regex().default('(.*)'),
    target_label: z
      .string()
      .regex(/^[a-zA-Z_$][a-zA-Z0-9_${}]*$/, 'target_label is a label name, optionally with $1-style references')
      .optional(),
    replacement: z.string().default('$1'),
  })
  .superRefine((rule, ctx) => {
    if (rule.action === 'replace' && rule.target_label === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target_label'], message: 'action replace needs target_label' });
    }
    if ((rule.action === 'keep' || rule.action === 'drop') && rule.source_labels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['source_labels'], message: `action ${rule.action} needs source_labels` });
    }
  });

export type RelabelRule = z.output<typeof relabelRuleSchema>;

const labelSet = z.record(z.string().regex(LABEL_NAME, 'label names match [a-zA-Z_][a-zA-Z0-9_]*'), z.string());

/** `host:port`, as in Prometheus static_configs. */
const address = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s/:]+):\d{1,5}$/, 'a target is host:port, e.g. localhost:9100');

export const staticTargetGroupSchema = z.strictObject({
  targets: z.array(address).min(1),
  labels: labelSet.default({}),
});

export const scrapeJobSchema = z
  .strictObject({
    /** The `job` label of every series from this job. */
    job_name: z.string().min(1),
    scrape_interval: duration({ min: 1 }).default(15_000),
    /** Defaults to 10s, or the interval when that is shorter (as Prometheus does). */
    scrape_timeout: duration({ min: 1 }).optional(),
    scheme: z.enum(['http', 'https']).default('http'),
    metrics_path: z.string().startsWith('/').default('/metrics'),
    params: z.record(z.string(), z.array(z.string())).default({}),
    /** Scraped labels win over target labels (for federation and pushgateway); otherwise they are renamed `exported_<name>`. */
    honor_labels: z.boolean().default(false),
    /** Use timestamps the target exposes; otherwise every sample gets the scrape's time. */
    honor_timestamps: z.boolean().default(true),
    basic_auth: z
      .strictObject({
        username: z.string(),
        password: z.string().optional(),
        password_file: z.string().optional(),
      })
      .optional(),
    /** A token, or a file holding it (re-read on every scrape, so rotated tokens are picked up). */
    authorization: z
      .strictObject({
        type: z.string().default('Bearer'),
        credentials: z.string().optional(),
        credentials_file: z.string().optional(),
      })
      .optional(),
    tls_config: z
      .strictObject({
        ca_file: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
        server_name: z.string().optional(),
        insecure_skip_verify: z.boolean().default(false),
      })
      .optional(),
    /** A scrape whose body (decompressed) passes this is failed (up = 0) instead of exhausting memory; 0 = no limit. */
    body_size_limit: byteSize({ min: 0 }).default(64 * 1024 * 1024),
    /** A scrape with more samples than this (after relabelling) is failed as Prometheus's sample_limit does; 0 = no limit. */
    sample_limit: z.number().int().min(0).default(0),
    static_configs: z.array(staticTargetGroupSchema).default([]),
    /** Prometheus file_sd: JSON or YAML files of target groups, re-read when they change. */
    file_sd_configs: z
      .array(
        z.strictObject({
          files: z.array(z.string().min(1)).min(1),
          refresh_interval: duration({ min: 1 }).default(300_000),
        }),
      )
      .default([]),
    metric_relabel_configs: z.array(relabelRuleSchema).default([]),
  })
  .superRefine((job, ctx) => {
    if (job.scrape_timeout !== undefined && job.scrape_timeout > job.scrape_interval) {
      ctx.addIssue({ code: 'custom', path: ['scrape_timeout'], message: 'scrape_timeout must not be longer than scrape_interval' });
    }
    if (job.static_configs.length === 0 && job.file_sd_configs.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['static_configs'], message: 'a job needs static_configs or file_sd_configs' });
    }
    if (job.tls_config !== undefined && job.scheme === 'http') {
      // Prometheus ignores it; here it would look like TLS while the targets are scraped in plaintext.
      ctx.addIssue({
        code: 'custom',
        path: ['tls_config'],
        message: 'tls_config applies only with scheme: https (with http the targets are scraped in plaintext)',
      });
    }
    if (job.basic_auth && job.authorization) {
      ctx.addIssue({ code: 'custom', path: ['authorization'], message: 'basic_auth and authorization are mutually exclusive' });
    }
    if (job.basic_auth?.password !== undefined && job.basic_auth.password_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['basic_auth', 'password_file'], message: 'password and password_file are mutually exclusive' });
    }
    if (job.authorization?.credentials !== undefined && job.authorization.credentials_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['authorization', 'credentials_file'], message: 'credentials and credentials_file are mutually exclusive' });
    }
  })
  .transform((job) => ({ ...job, scrape_timeout: job.scrape_timeout ?? Math.min(DEFAULT_SCRAPE_TIMEOUT_MS, job.scrape_interval) }));

export type ScrapeJobConfig = z.output<typeof scrapeJobSchema>;

export const prometheusScrapeSourceSchema = z
  .strictObject({
    type: z.literal('prometheus_scrape'),
    scrape_configs: z.array(scrapeJobSchema).min(1),
  })
  .superRefine((source, ctx) => {
    const seen = new Set<string>();
    source.scrape_configs.forEach((job, index) => {
      if (seen.has(job.job_name))
        ctx.addIssue({ code: 'custom', path: ['scrape_configs', index, 'job_name'], message: `duplicate job_name "${job.job_name}"` });
      seen.add(job.job_name);
    });
  });

export type PrometheusScrapeSourceConfig = z.output<typeof prometheusScrapeSourceSchema>;
