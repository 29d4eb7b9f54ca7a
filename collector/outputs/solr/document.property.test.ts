import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../../../shared/test-support/boundary-contract.js';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { solrOutputSchema } from './config.js';
import { logDocument, metricDocument, type SolrDocument } from './document.js';

/**
 * The Solr document builder's boundary contract: any attribute and resource
 * keys and values give a flat document without a thrown error, string fields
 * within `max_string_chars`, the uniqueKey intact, no prototype touched, in
 * time linear in the input.
 */

const MAX_STRING_CHARS = 64;
const mapping = solrOutputSchema.parse({ type: 'solr', endpoints: ['http://localhost:8983/solr'], mapping: { max_string_chars: MAX_STRING_CHARS } }).mapping;

const segment = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', 'id', 'a'), fc.string({ maxLength: 8 }));
const key = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 12 }).map((parts) => parts.join('.')),
  fc.string({ maxLength: 40 }),
);
const text = fc.string({ maxLength: 200, unit: 'grapheme' });
const scalar = fc.oneof(text, fc.double(), fc.integer(), fc.boolean());
const attributes = fc
  .array(fc.tuple(key, scalar), { maxLength: 25 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string | number | boolean>);
const resource = fc.array(fc.tuple(key, text), { maxLength: 10 }).map((entries) => Object.fromEntries(entries) as Record<string, string>);

function checkDocument(document: SolrDocument, id: string): void {
  expect(Object.getPrototypeOf(document)).toBeNull();
  expect(document.id).toBe(id);
  for (const [field, value] of Object.entries(document)) {
    if (field.endsWith('_s') && typeof value === 'string') expect(value.length).toBeLessThanOrEqual(MAX_STRING_CHARS);
    // Flat: every value is a scalar or an array of scalars.
    if (Array.isArray(value)) for (const item of value as unknown[]) expect(typeof item).not.toBe('object');
    else expect(typeof value).not.toBe('object');
  }
  JSON.parse(JSON.stringify(document));
}

describe('Solr documents: boundary contract', () => {
  it(
    'any attribute and resource keys and values: only typed errors, flat, strings within the cap, prototypes untouched',
    () => {
      fc.assert(
        fc.property(attributes, resource, text, (attributeEntries, resourceEntries, body) => {
          const labels: Record<string, string> = Object.fromEntries(Object.entries(attributeEntries).map(([name, value]) => [name, String(value)]));
          const log = logRecord({ id: 'l'.repeat(32), attributes: attributeEntries, resource: resourceEntries, body, severity_text: body });
          const metric = metricRecord({ id: 'm'.repeat(32), attributes: labels, resource: resourceEntries, description: body });
          const logOut = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => logDocument(log, mapping), [TributaryError]));
          const metricOut = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => metricDocument(metric, mapping), [TributaryError]));
          expect(logOut).not.toBeInstanceOf(Error);
          expect(metricOut).not.toBeInstanceOf(Error);
          checkDocument(logOut as SolrDocument, log.id);
          checkDocument(metricOut as SolrDocument, metric.id);
        }),
        propertyParameters('solr documents', 150),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time on deep dotted keys, huge values and many keys sharing prefixes',
    () => {
      const build = (entries: Record<string, string>): void => {
        for (let n = 0; n < 4; n++) logDocument(logRecord({ attributes: entries, resource: entries }), mapping);
      };
      const deepKey = (size: number): Record<string, string> => ({ [Array.from({ length: size }, () => '__proto__').join('.')]: 'v' });
      expectLinearTime(deepKey, build, { maxBaseSize: 1 << 11, minBaseMs: 1 });
      const hugeValue = (size: number): Record<string, string> => ({ k: '\uD83D\uDE00'.repeat(size) });
      expectLinearTime(hugeValue, build, { maxBaseSize: 1 << 14, minBaseMs: 1 });
      // Thousands of keys: where V8's own objects are least linear (see the Elasticsearch property test), so a looser bound.
      const sharedPrefixes = (size: number): Record<string, string> =>
        Object.fromEntries(Array.from({ length: size }, (_, n) => [`a.b.c.d.e.f.g.h.constructor.k${n}`, 'v']));
      expectLinearTime(sharedPrefixes, build, { minBaseMs: 20, maxBaseSize: 4096, maxRatio: 10 });
    },
    propertyTimeoutMs(),
  );
});
