import { z } from 'zod';
import { catastrophicBacktrackingProblem } from '../regex-safety.js';

/** Severity range names, lowest first; `severity_at_least: WARN` takes WARN, ERROR and FATAL (numbers 13 and up). */
export const SEVERITY_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

/** The lowest OpenTelemetry SeverityNumber of a range: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21. */
export function minimumSeverityNumber(level: SeverityLevel): number {
  return SEVERITY_LEVELS.indexOf(level) * 4 + 1;
}

/** `match.record` values: the kinds of record the collector produces. */
export const RECORD_KINDS = ['logs', 'metrics'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/**
 * One routing rule. A record goes to the outputs of the first rule whose
 * conditions all hold (an empty match takes every record), and on to later
 * matching rules while the matched rule says `continue`.
 */
export const routeRuleSchema = z.strictObject({
  match: z
    .strictObject({
      /** Which records the rule takes: log records (tributary.log.v1) or metric records (tributary.metric.v1); both when absent. */
      record: z.enum(RECORD_KINDS).optional(),
      /** Log records only: a metric record never matches a rule that sets it. */
      severity_at_least: z.enum(SEVERITY_LEVELS).optional(),
      /** Exact string values of attributes. */
      attributes: z.record(z.string(), z.string()).optional(),
      /** Exact values of resource attributes. */
      resource: z.record(z.string(), z.string()).optional(),
      /** JavaScript regular expression searched in a log record's body; a metric record never matches a rule that sets it. */
      body_regex: z
        .string()
        .min(1)
        .superRefine((pattern, ctx) => {
          try {
            new RegExp(pattern);
          } catch (error) {
            ctx.addIssue({
              code: 'custom',
              message: `invalid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /s, '')}`,
            });
            return;
          }
          // It runs on every untrusted log body (13.8).
          const backtracking = catastrophicBacktrackingProblem(pattern);
          if (backtracking !== undefined) ctx.addIssue({ code: 'custom', message: backtracking });
        })
        .optional(),
    })
    .superRefine((match, ctx) => {
      // Such a rule could never match anything; saying so beats a route that silently takes nothing.
      if (match.record !== 'metrics') return;
      for (const key of ['severity_at_least', 'body_regex'] as const) {
        if (match[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `${key} only matches log records, but this rule takes only metrics` });
      }
    })
    .prefault({}),
  /** Output ids from `outputs`. */
  outputs: z.array(z.string().min(1)).min(1),
  continue: z.boolean().default(false),
});

export type RouteRuleConfig = z.output<typeof routeRuleSchema>;

export interface RouteConfig {
  routes: readonly RouteRuleConfig[];
  /** Outputs of records no rule matches; undefined means every output. */
  default_outputs?: readonly string[] | undefined;
}
