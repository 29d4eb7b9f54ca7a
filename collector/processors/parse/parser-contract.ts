/**
 * The boundary contract of a LineParser, for the parsers' property tests
 * (test support only): `parse` never throws (a bad line is `ok: false`), its
 * output is bounded by the line (no attribute or body larger than the line,
 * no more attributes than the line has characters plus the parser's fixed
 * fields), no data reaches a prototype, no key carries a prototype segment,
 * and time is linear in the line's length on adversarial shapes.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { hasUnsafeKeySegment } from '../../../shared/record/key-path.js';
import { expectLinearTime, expectOnlyTypedErrors, expectPrototypesUntouched, propertyParameters } from '../../../shared/test-support/boundary-contract.js';
import { ADVERSARIAL_UNITS, LINEAR_CHECK, adversarialLine, slowestUnit } from '../adversarial-lines.js';
import type { LineParser } from './types.js';

/** Fixed attributes a parser may add beyond what the line holds (syslog header fields, HTTP fields...). */
const FIXED_FIELDS = 16;
/** Unescaping can only shrink text; decoding `\uXXXX` and `\xHH` never grows it. JSON.stringify of a nested value can add quotes and escapes. */
const MAX_VALUE_GROWTH = 2;

export function expectParserContract(parser: LineParser, line: string): void {
  const result = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => parser.parse(line), []));
  if (result instanceof Error) throw result;
  if (!result.ok) {
    expect(typeof result.error).toBe('string');
    return;
  }
  const { fields } = result;
  const keys = Object.keys(fields.attributes);
  expect(keys.length).toBeLessThanOrEqual(line.length + FIXED_FIELDS);
  for (const key of keys) {
    expect(hasUnsafeKeySegment(key), key).toBe(false);
    const value = fields.attributes[key];
    if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(line.length * MAX_VALUE_GROWTH + 2);
  }
  if (fields.body !== undefined) expect(fields.body.length).toBeLessThanOrEqual(line.length);
  if (fields.timestamp !== undefined) expect(fields.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,9}Z$/);
  if (fields.severityNumber !== undefined) expect(fields.severityNumber).toBeGreaterThanOrEqual(1);
  if (fields.severityNumber !== undefined) expect(fields.severityNumber).toBeLessThanOrEqual(24);
}

/** Lines built from the adversarial units and from fragments of the parser's own syntax. */
export function hostileLine(fragments: readonly string[]): fc.Arbitrary<string> {
  const pieces = fc.oneof(
    fc.constantFrom(
      ...fragments,
      ...ADVERSARIAL_UNITS,
      '__proto__',
      'constructor',
      'prototype',
      '.',
      '=',
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      '\u0000',
      '\uFFFD',
      '\uD800',
    ),
    fc.string({ maxLength: 8 }),
  );
  return fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join(''));
}

export function runParserProperty(name: string, parser: LineParser, fragments: readonly string[]): void {
  fc.assert(
    fc.property(hostileLine(fragments), (line) => expectParserContract(parser, line)),
    propertyParameters(name),
  );
}

/** Linear time on the unit this parser is slowest on, and on each of its own syntax fragments repeated. */
export function expectParserLinear(parser: LineParser, fragments: readonly string[] = []): void {
  const run = (line: string) => parser.parse(line);
  for (const unit of [slowestUnit(run), ...fragments]) {
    try {
      expectLinearTime((count) => adversarialLine(unit, count), run, LINEAR_CHECK(unit));
    } catch (error) {
      throw new Error(`${parser.name} on ${JSON.stringify(unit)} repeated: ${(error as Error).message}`);
    }
  }
}
