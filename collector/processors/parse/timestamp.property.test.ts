import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../../../shared/test-support/boundary-contract.js';
import { LINEAR_CHECK, adversarialLine, slowestUnit } from '../adversarial-lines.js';
import { parseTimestamp, validateTimestampFormat, type TimestampOptions } from './timestamp.js';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,9}Z$/;
const FORMATS = [
  'auto',
  'rfc3339',
  'rfc3164',
  'common_log',
  'unix',
  'unix_ms',
  'unix_ns',
  'yyyy-M-d H:m:s.S',
  "yyyy-MM-dd'T'HH:mm:ssXXX",
  'dd/MMM/yyyy:HH:mm:ss Z',
  'E MMM d HH:mm:ss yyyy',
  'yyyy-MM-dd HH:mm:ss VV',
  'h:mm a n',
];
const FRAGMENTS = [
  '2024',
  '-',
  '05',
  ':',
  'T',
  'Z',
  '+02:00',
  '.',
  '123456789',
  ' ',
  'Jan',
  'Mon',
  '/',
  'PM',
  'Europe/Berlin',
  '99999999999999999999',
  '1e300',
  '-1',
  ',',
];

const timeText = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 16 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 40 }),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);
const timeValue = fc.oneof(timeText, fc.double(), fc.integer(), fc.constantFrom(Number.MAX_VALUE, -0, 1e300, 2 ** 53));
const options = fc.record({
  format: fc.constantFrom(...FORMATS),
  timezone: fc.constantFrom('UTC', 'Europe/Berlin', '+05:30', 'America/St_Johns'),
}) as fc.Arbitrary<TimestampOptions>;

describe('timestamp parsing boundary', () => {
  it(
    'never throws, and any result is RFC 3339 UTC within years 0000-9999, with no prototype touched',
    () => {
      fc.assert(
        fc.property(timeValue, options, (value, opts) => {
          const result = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => parseTimestamp(value, opts), []));
          if (result !== undefined) expect(result).toMatch(RFC3339_UTC);
        }),
        propertyParameters('timestamp parsing', 300),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'format validation never throws and answers a message or undefined',
    () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 30 }), (format) => {
          const problem = expectOnlyTypedErrors(() => validateTimestampFormat(format), []);
          expect(problem === undefined || typeof problem === 'string').toBe(true);
        }),
        propertyParameters('timestamp format validation', 300),
      );
    },
    propertyTimeoutMs(),
  );

  it.each(FORMATS)(
    'parses in linear time on adversarial text (%s)',
    (format) => {
      const run = (text: string) => parseTimestamp(text, { format });
      const unit = slowestUnit(run);
      expectLinearTime((count) => adversarialLine(unit, count), run, LINEAR_CHECK(unit));
    },
    propertyTimeoutMs(),
  );
});
