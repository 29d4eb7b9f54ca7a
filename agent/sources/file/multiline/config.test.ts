import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../../../../shared/config/load.js';
import { multilineSchema } from './config.js';

/** Stands in for the file source schema, so key paths read as they will in a real config. */
const wrapper = z.strictObject({ multiline: multilineSchema.optional() });

function problemsOf(multiline: unknown): string[] {
  try {
    validateConfig(wrapper, { multiline }, 'agent.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('multilineSchema', () => {
  it('fills defaults', () => {
    expect(multilineSchema.parse({ preset: 'java' })).toEqual({ preset: 'java', flush_timeout: 1_000, max_bytes: 262_144, max_lines: 500 });
  });

  it('parses durations and sizes as users write them', () => {
    const config = validateConfig(
      wrapper,
      { multiline: { mode: 'start_pattern', pattern: '^\\d{4}-', flush_timeout: '250ms', max_bytes: '1MiB', max_lines: 50 } },
      'agent.yaml',
    );
    expect(config.multiline).toEqual({ mode: 'start_pattern', pattern: '^\\d{4}-', flush_timeout: 250, max_bytes: 1_048_576, max_lines: 50 });
  });

  it('is optional in the source', () => {
    expect(validateConfig(wrapper, {}, 'agent.yaml')).toEqual({});
  });

  it.each([{ preset: 'python' }, { preset: 'go' }, { mode: 'indented' }, { mode: 'continuation_pattern', pattern: '^\\s' }])('accepts %j', (multiline) => {
    expect(multilineSchema.safeParse(multiline).success).toBe(true);
  });

  it('names the regex error at the pattern key', () => {
    expect(problemsOf({ mode: 'start_pattern', pattern: '^(\\d+' })).toEqual(['multiline.pattern: invalid regular expression "^(\\\\d+": Unterminated group']);
    // Inline flags are Go (Filebeat) syntax; JavaScript rejects them, so the user learns it at validation.
    expect(problemsOf({ mode: 'continuation_pattern', pattern: '(?i)^\\s+at' })).toEqual([
      'multiline.pattern: invalid regular expression "(?i)^\\\\s+at": Invalid group',
    ]);
  });

  it('rejects preset and mode together', () => {
    expect(problemsOf({ preset: 'java', mode: 'indented' })).toEqual(['multiline: set either "preset" or "mode", not both']);
  });

  it('rejects neither preset nor mode', () => {
    expect(problemsOf({ max_lines: 10 })).toEqual(['multiline: set "preset" (java, python or go) or "mode" (start_pattern, continuation_pattern or indented)']);
  });

  it('requires a pattern for the pattern modes', () => {
    expect(problemsOf({ mode: 'start_pattern' })).toEqual(['multiline.pattern: required when mode is "start_pattern"']);
    expect(problemsOf({ mode: 'continuation_pattern' })).toEqual(['multiline.pattern: required when mode is "continuation_pattern"']);
  });

  it('rejects a pattern where nothing would use it', () => {
    expect(problemsOf({ mode: 'indented', pattern: '^\\s' })).toEqual(['multiline.pattern: not used with mode "indented" (indentation decides)']);
    expect(problemsOf({ preset: 'go', pattern: '^panic' })).toEqual(['multiline.pattern: not used with a preset (preset "go" brings its own rules)']);
  });

  it('rejects unknown keys, unknown presets and out-of-range caps', () => {
    expect(problemsOf({ preset: 'java', negate: true })).toEqual([expect.stringMatching(/^multiline\.negate: unknown key/)]);
    expect(problemsOf({ preset: 'ruby' })).toEqual([expect.stringMatching(/^multiline\.preset: .*"java"\|"python"\|"go"/)]);
    expect(problemsOf({ preset: 'java', max_bytes: 0 })).toEqual(['multiline.max_bytes: must be at least 1 byte']);
    expect(problemsOf({ preset: 'java', max_lines: 0 })).toEqual([expect.stringMatching(/^multiline\.max_lines: /)]);
    expect(problemsOf({ preset: 'java', flush_timeout: 'soon' })).toEqual([
      'multiline.flush_timeout: expected a duration such as "500ms", "5s" or "1m", from 0ms to 24d20h31m23s647ms',
    ]);
  });
});
