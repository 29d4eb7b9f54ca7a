import { z } from 'zod';
import { byteSize, duration } from '../../../../shared/config/schema.js';

/**
 * Compiles a user's `pattern`. Validation and the stage both go through here
 * so a pattern accepted by the config is compiled with the same flags at run
 * time. No flags: the `u` flag would reject escapes such as `\:` that
 * patterns copied from Fluent Bit or Filebeat configs often carry, and `g`/`y`
 * would make `test()` stateful (`lastIndex`), breaking determinism. Matching
 * is unanchored, as in Filebeat: anchor with `^` to match at the line start.
 */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(pattern);
}

/** V8 words it "Invalid regular expression: /(/: Unterminated group"; the regex is already named by the key path. */
function regexProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

const PATTERN_MODES: ReadonlySet<string> = new Set(['start_pattern', 'continuation_pattern']);

/**
 * `sources.<id>.multiline`: joins the physical lines of one logical record
 * (stack traces, pretty-printed messages) into one event. Exactly one of:
 * - `preset`: `java`, `python` or `go`; rule sets for their stack traces and
 *   panics (see presets.ts);
 * - `mode` (+ `pattern`):
 *   - `start_pattern`: a line matching `pattern` starts a record, any other
 *     line continues the current one (Filebeat `negate: true, match: after`);
 *   - `continuation_pattern`: a line matching `pattern` continues the current
 *     record, any other line starts one;
 *   - `indented`: a line starting with a space or tab continues the current
 *     record; no pattern.
 */
export const multilineSchema = z
  .strictObject({
    mode: z.enum(['start_pattern', 'continuation_pattern', 'indented']).optional(),
    /** JavaScript regular expression, without flags (see `compilePattern`). */
    pattern: z.string().min(1).optional(),
    preset: z.enum(['java', 'python', 'go']).optional(),
    /**
     * A pending record is emitted when no line arrived for this long: the last
     * record of a file has no successor line to end it.
     */
    flush_timeout: duration().default(1_000),
    /** A longer record is cut and flagged `truncated`; the rest of its lines are dropped and counted. Bounds pending memory per file. */
    max_bytes: byteSize()
      .refine((bytes) => bytes >= 1, { message: 'must be at least 1 byte' })
      .default(256 * 1024),
    /** Same treatment as `max_bytes`, counted in lines. */
    max_lines: z.number().int().min(1).default(500),
  })
  .superRefine((config, ctx) => {
    if (config.preset !== undefined && config.mode !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'set either "preset" or "mode", not both' });
    } else if (config.preset === undefined && config.mode === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set "preset" (java, python or go) or "mode" (start_pattern, continuation_pattern or indented)',
      });
    }
    if (config.pattern === undefined) {
      if (config.mode !== undefined && PATTERN_MODES.has(config.mode)) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: `required when mode is "${config.mode}"` });
      }
      return;
    }
    if (config.preset !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not used with a preset (preset "${config.preset}" brings its own rules)` });
    } else if (config.mode === 'indented') {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'not used with mode "indented" (indentation decides)' });
    }
    try {
      compilePattern(config.pattern);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `invalid regular expression ${JSON.stringify(config.pattern)}: ${regexProblem(error)}` });
    }
  });

export type MultilineConfig = z.output<typeof multilineSchema>;
export type MultilineMode = NonNullable<MultilineConfig['mode']>;
export type MultilinePreset = NonNullable<MultilineConfig['preset']>;
