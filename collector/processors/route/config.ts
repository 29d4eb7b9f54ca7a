import { z } from 'zod';

/** Severity range names, lowest first; `severity_at_least: WARN` takes WARN, ERROR and FATAL (numbers 13 and up). */
export const SEVERITY_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

/** The lowest OpenTelemetry SeverityNumber of a range: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21. */
export function minimumSeverityNumber(level: SeverityLevel): number {
  return SEVERITY_LEVELS.indexOf(level) * 4 + 1;
}

/**
 * One routing rule. A record goes to the outputs of the first rule whose
 * conditions all hold (an empty match takes every record), and on to later
 * matching rules while the matched rule says `continue`.
 */
export const routeRuleSchema = z.strictObject({
  match: z
    .strictObject({
      severity_at_least: z.enum(SEVERITY_LEVELS).optional(),
      /** Exact string values of attributes. */
      attributes: z.record(z.string(), z.string()).optional(),
      /** Exact values of resource attributes. */
      resource: z.record(z.string(), z.string()).optional(),
      /** JavaScript regular expression searched in the body. */
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
          }
        })
        .optional(),
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
