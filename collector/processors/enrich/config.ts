import { z } from 'zod';
import { hasUnsafeKeySegment } from '../../../shared/record/key-path.js';
import { catastrophicBacktrackingProblem } from '../regex-safety.js';

/**
 * Keys written by enrich are walked as dotted paths downstream (documents,
 * templates): a `__proto__`, `constructor` or `prototype` segment would reach a
 * prototype there, so it is a configuration error here.
 */
const UNSAFE_KEY_MESSAGE = 'a key segment may not be "__proto__", "constructor" or "prototype"';
const safeKey = z.string().refine((key) => !hasUnsafeKeySegment(key), UNSAFE_KEY_MESSAGE);

/** `attributes.<key>` or `resource.<key>`; only the first dot separates, so keys may contain dots. */
const fieldPath = z
  .string()
  .regex(/^(attributes|resource)\..+$/s, 'expected "attributes.<key>" or "resource.<key>"')
  .refine((path) => !hasUnsafeKeySegment(path), UNSAFE_KEY_MESSAGE);

/** A redactable field: the body, or an attribute or resource value. */
const redactField = z
  .string()
  .regex(/^(body|(attributes|resource)\..+)$/s, 'expected "body", "attributes.<key>" or "resource.<key>"')
  .refine((path) => !hasUnsafeKeySegment(path), UNSAFE_KEY_MESSAGE);

/**
 * Built-in redaction patterns, by name. A pattern that is not one of these
 * names is read as a JavaScript regular expression.
 * - `email`: `local@domain.tld`
 * - `bearer_token`: the token after `Bearer ` (the word `Bearer` stays)
 * - `credit_card`: 13–19 digits, optionally grouped by spaces or dashes, passing the Luhn check
 * - `ipv4`: dotted-quad addresses with octets 0–255
 */
export const BUILT_IN_PATTERNS = ['email', 'bearer_token', 'credit_card', 'ipv4'] as const;
export type BuiltInPattern = (typeof BUILT_IN_PATTERNS)[number];

export function isBuiltInPattern(pattern: string): pattern is BuiltInPattern {
  return (BUILT_IN_PATTERNS as readonly string[]).includes(pattern);
}

/** Compiles a custom pattern as the enricher will (global); throws a message naming the problem. */
export function compileCustomPattern(pattern: string): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'g');
  } catch (error) {
    throw new Error(`invalid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /s, '')}`);
  }
  // It runs on every untrusted line (13.8).
  const backtracking = catastrophicBacktrackingProblem(pattern);
  if (backtracking !== undefined) throw new Error(backtracking);
  return regex;
}

export const addOperationSchema = z.strictObject({
  add: z.strictObject({
    attributes: z.record(safeKey, z.string()).optional(),
    resource: z.record(safeKey, z.string()).optional(),
  }),
  /** Replace values already present; by default an existing value is kept. */
  overwrite: z.boolean().default(false),
});

export const renameOperationSchema = z.strictObject({
  rename: z.strictObject({ from: fieldPath, to: fieldPath }),
});

export const dropOperationSchema = z.strictObject({
  drop: z.array(fieldPath).min(1),
});

export const redactOperationSchema = z.strictObject({
  redact: z.strictObject({
    patterns: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((pattern, ctx) => {
            if (isBuiltInPattern(pattern)) return;
            try {
              compileCustomPattern(pattern);
            } catch (error) {
              ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (built-in patterns: ${BUILT_IN_PATTERNS.join(', ')})` });
            }
          }),
      )
      .min(1),
    /** Fields searched; by default the body and every string attribute. */
    fields: z.array(redactField).min(1).optional(),
    replacement: z.string().default('[REDACTED]'),
  }),
});

/** One enrich operation; the list runs in order on every record after parsing. */
export const enrichOperationSchema = z.union([addOperationSchema, renameOperationSchema, dropOperationSchema, redactOperationSchema]);

export type EnrichOperationConfig = z.output<typeof enrichOperationSchema>;
export type EnrichConfig = readonly EnrichOperationConfig[];
