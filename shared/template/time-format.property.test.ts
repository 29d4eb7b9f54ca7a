import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../test-support/boundary-contract.js';
import { formatTime, parseTimeFormat, utcMinute } from './time-format.js';

/**
 * The time placeholder's boundary contract: any placeholder text (config) is a time pattern or not (never a
 * throw), any timestamp (record data) gives a UTC minute, and a pattern renders exactly its fields' widths and
 * its separators, in time linear in the input.
 */

const WIDTH: Record<string, number> = { yyyy: 4, MM: 2, dd: 2, HH: 2, mm: 2 };
const inner = fc.oneof(
  fc
    .array(fc.constantFrom('yyyy', 'MM', 'dd', 'HH', 'mm', '-', '_', '.', 'y', 'M', '/', ' ', '}', '{', '__proto__'), { maxLength: 12 })
    .map((parts) => parts.join('')),
  fc.string({ maxLength: 30 }),
);
const timestamp = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('2026-11-24T01:30:00+02:00', '275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00Z', ''),
);

describe('time placeholders: boundary contract', () => {
  it(
    'any placeholder text parses or is not a time; any timestamps render the pattern at its fixed widths',
    () => {
      fc.assert(
        fc.property(inner, fc.array(timestamp, { maxLength: 3 }), (text, timestamps) => {
          const tokens = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => parseTimeFormat(text), []));
          if (tokens === undefined || tokens instanceof Error) return;
          const minute = expectOnlyTypedErrors(() => utcMinute(timestamps), []);
          if (minute instanceof Error) return;
          expect(minute).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
          const rendered = formatTime(tokens, minute);
          const expected = tokens.reduce((length, token) => length + ('text' in token ? token.text.length : (WIDTH[token.unit] ?? 0)), 0);
          expect(rendered).toHaveLength(expected);
          // Only what the pattern says: the separators it holds and the minute's characters.
          expect(tokens.map((token) => ('text' in token ? token.text : '')).join('')).toBe(text.replace(/yyyy|MM|dd|HH|mm/g, ''));
        }),
        propertyParameters('time placeholders', 300),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time in long patterns and long timestamps',
    () => {
      // No size cap: the base grows to a few milliseconds, past the size where V8 moves the token array to its
      // large-object space (about 40,000 tokens), a one-time step that a small base would read as quadratic.
      expectLinearTime(
        (size) => 'yyyy.MM.dd-HH_mm'.repeat(size),
        (text) => parseTimeFormat(text),
        { repetitions: 5 },
      );
      expectLinearTime(
        (size) => 'yyyy.'.repeat(size) + 'x',
        (text) => parseTimeFormat(text),
        { repetitions: 5 },
      );
      expectLinearTime(
        (size) => [`2026-11-23T09:05${'9'.repeat(size)}`, `2026-11-23T09${'9'.repeat(size)}`],
        (stamps) => utcMinute(stamps),
        {
          maxBaseSize: 1 << 12,
          minBaseMs: 1,
          repetitions: 5,
        },
      );
    },
    propertyTimeoutMs(),
  );
});
