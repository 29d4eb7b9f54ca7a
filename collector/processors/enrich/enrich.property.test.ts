import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateConfig } from '../../../shared/config/load.js';
import { hasUnsafeKeySegment } from '../../../shared/record/key-path.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../../../shared/test-support/boundary-contract.js';
import { logRecord } from '../../../test/helpers/records.js';
import { ADVERSARIAL_UNITS, LINEAR_CHECK, adversarialLine, slowestUnit } from '../adversarial-lines.js';
import { BUILT_IN_PATTERNS, enrichOperationSchema } from './config.js';
import { createEnricher } from './enrich.js';

const schema = z.strictObject({ enrich: z.array(enrichOperationSchema) });
const REPLACEMENT = '[REDACTED]';
const enricher = createEnricher(
  validateConfig(
    schema,
    {
      enrich: [
        { add: { attributes: { team: 'shop', toString: 'x' }, resource: { 'deployment.environment': 'prod' } } },
        { rename: { from: 'attributes.user', to: 'attributes.user.name' } },
        { drop: ['attributes.session'] },
        { redact: { patterns: [...BUILT_IN_PATTERNS, 'secret=\\S+'], replacement: REPLACEMENT } },
      ],
    },
    'collector.yaml',
    {},
  ).enrich,
);

const text = fc.oneof(
  fc
    .array(fc.constantFrom(...ADVERSARIAL_UNITS, 'bob@example.com', 'Bearer abc.def', '4111 1111 1111 1111', '10.0.0.1', 'secret=x', '__proto__'), {
      maxLength: 30,
    })
    .map((parts) => parts.join('')),
  fc.string({ maxLength: 60 }),
);
const key = fc.oneof(fc.constantFrom('user', 'session', '__proto__', 'constructor', 'toString', 'a.prototype.b', 'team'), fc.string({ maxLength: 8 }));

describe('enrich boundary', () => {
  it(
    'never throws; output is bounded by the input; no prototype touched; no unsafe key written',
    () => {
      fc.assert(
        fc.property(text, fc.array(fc.tuple(key, text), { maxLength: 6 }), (body, entries) => {
          const attributes = Object.create(null) as Record<string, string>;
          for (const [name, value] of entries) Object.defineProperty(attributes, name, { value, enumerable: true, writable: true, configurable: true });
          const record = logRecord({ body, attributes });
          const inputKeys = new Set(Object.keys(attributes));
          const inputLength = body.length + entries.reduce((sum, [, value]) => sum + value.length, 0);
          const result = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => enricher(record), []));
          if (result instanceof Error) throw result;
          // Each redaction replaces at least one character by the replacement.
          const outputLength = record.body.length + Object.values(record.attributes).reduce<number>((sum, value) => sum + String(value).length, 0);
          expect(outputLength).toBeLessThanOrEqual(inputLength * (REPLACEMENT.length + 1) + 64);
          for (const written of Object.keys(record.attributes)) if (!inputKeys.has(written)) expect(hasUnsafeKeySegment(written)).toBe(false);
        }),
        propertyParameters('enrich'),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'redacts in linear time on adversarial bodies',
    () => {
      const run = (body: string) => enricher(logRecord({ body, attributes: {} }));
      const unit = slowestUnit(run);
      expectLinearTime((count) => adversarialLine(unit, count), run, LINEAR_CHECK(unit));
    },
    propertyTimeoutMs(),
  );
});
