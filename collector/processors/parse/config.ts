import { z } from 'zod';
import { ParserConfigError } from './field-mapping.js';
import { JSON_DEFAULT_MAX_DEPTH } from './json.js';
import { compileRegexPattern } from './regex.js';
import { validateTimestampFormat, validateTimezone } from './timestamp.js';

/**
 * The `parser:` block of a parse rule: a discriminated union on `type`.
 * Validation is pure and complete at start-up: a bad time zone, timestamp
 * format, regex or grok name is reported on its key path, never at the first
 * log line.
 */

/** An IANA zone (`Europe/Berlin`) or fixed offset (`+02:00`, `UTC`). */
const timezone = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = validateTimezone(value);
    if (problem !== undefined)
      ctx.addIssue({ code: 'custom', message: `${problem} (expected an IANA name such as "Europe/Berlin" or an offset such as "+02:00")` });
  });

const timestampFormat = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = validateTimestampFormat(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Same option names for every structured parser, so a rule can switch `type` without renaming keys. */
const fieldMappingShape = {
  timestamp_field: z.string().min(1).optional(),
  timestamp_format: timestampFormat.optional(),
  timezone: timezone.optional(),
  severity_field: z.string().min(1).optional(),
  message_field: z.string().min(1).optional(),
};

export const jsonParserSchema = z.strictObject({
  type: z.literal('json'),
  flatten: z.boolean().default(true),
  max_depth: z.number().int().min(1).max(64).default(JSON_DEFAULT_MAX_DEPTH),
  ...fieldMappingShape,
});

export const logfmtParserSchema = z.strictObject({
  type: z.literal('logfmt'),
  ...fieldMappingShape,
});

export const regexParserSchema = z
  .strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1),
    ...fieldMappingShape,
  })
  .superRefine((config, ctx) => {
    // Compile exactly as the factory will, so what validates is what runs.
    try {
      compileRegexPattern(config.pattern);
    } catch (error) {
      if (!(error instanceof ParserConfigError)) throw error;
      ctx.addIssue({ code: 'custom', path: [error.key], message: error.message });
    }
  });

export const syslogParserSchema = z.strictObject({
  type: z.literal('syslog'),
  /** `auto` tells RFC 5424 (`<PRI>1 …`) from RFC 3164 by the version digit after PRI. */
  format: z.enum(['rfc3164', 'rfc5424', 'auto']).default('auto'),
  /** Zone for RFC 3164 timestamps, which carry none; default UTC. */
  timezone: timezone.optional(),
});

export const accessLogParserSchema = z.strictObject({
  type: z.literal('access_log'),
  format: z.enum(['nginx_combined', 'apache_combined', 'apache_common', 'apache_error']),
  /** Zone for apache_error timestamps, which Apache writes in local time without an offset; default UTC. */
  timezone: timezone.optional(),
});

export const parserSchema = z.discriminatedUnion('type', [jsonParserSchema, logfmtParserSchema, regexParserSchema, syslogParserSchema, accessLogParserSchema]);

export type ParserConfig = z.output<typeof parserSchema>;
export type JsonParserConfig = z.output<typeof jsonParserSchema>;
export type LogfmtParserConfig = z.output<typeof logfmtParserSchema>;
export type RegexParserConfig = z.output<typeof regexParserSchema>;
export type SyslogParserConfig = z.output<typeof syslogParserSchema>;
export type AccessLogParserConfig = z.output<typeof accessLogParserSchema>;
