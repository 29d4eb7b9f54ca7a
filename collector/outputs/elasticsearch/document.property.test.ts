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
import { MAX_FIELD_DEPTH, logDocument, metricDocument, type Document } from './document.js';

/**
 * The Elasticsearch document builder's boundary contract: any attribute and
 * resource keys (prototype names, dots, empty segments, huge keys) give a
 * document without a thrown error, within the mapping depth limit, with the
 * record's own fields intact, no prototype touched, in time linear in the input.
 */

const segment = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'a', 'host', 'name', 'labels', 'message', '_id', '@timestamp'),
  fc.string({ maxLength: 8 }),
);
const key = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 30 }).map((parts) => parts.join('.')),
  fc.string({ maxLength: 40 }),
);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.integer(), fc.boolean());
// Object.fromEntries defines own properties, so a `__proto__` key arrives as data, as JSON.parse hands it on.
const attributes = fc
  .array(fc.tuple(key, scalar), { maxLength: 25 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string | number | boolean>);
const resource = fc
  .array(fc.tuple(key, fc.string({ maxLength: 20 })), { maxLength: 10 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

/** Nesting depth of objects in a document (the root object is depth 1). */
function depth(value: unknown): number {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child));
  return 1 + deepest;
}

function checkDocument(document: Document, record: { id: string; timestamp: string }): void {
  // It serializes (no cycle, no stack overflow) and reads back as the same data.
  const parsed = JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
  expect(parsed['@timestamp']).toBe(record.timestamp);
  expect(parsed.event).toEqual({ id: record.id });
  // Attribute paths stay within the depth limit (metric.* adds its own two levels below the root).
  expect(depth(parsed)).toBeLessThanOrEqual(MAX_FIELD_DEPTH + 1);
  const labels = parsed.labels as Record<string, unknown> | undefined;
  for (const label of Object.keys(labels ?? {})) expect(label).not.toContain('.');
}

describe('Elasticsearch documents: boundary contract', () => {
  it(
    'any attribute and resource keys: only typed errors, prototypes untouched, record fields intact, within the depth limit',
    () => {
      fc.assert(
        fc.property(attributes, resource, (attributeEntries, resourceEntries) => {
          const log = logRecord({ attributes: attributeEntries, resource: resourceEntries, severity_text: 'INFO' });
          // Metric attributes (labels) are strings; defined one by one so a `__proto__` key stays data.
          const labels: Record<string, string> = Object.fromEntries(Object.entries(attributeEntries).map(([name, value]) => [name, String(value)]));
          const metric = metricRecord({ attributes: labels, resource: resourceEntries });
          for (const [record, build] of [
            [log, () => logDocument(log, { type: 'logs', dataset: 'd', namespace: 'n' })],
            [metric, () => metricDocument(metric)],
          ] as const) {
            const document = expectPrototypesUntouched(() => expectOnlyTypedErrors(build, [TributaryError]));
            expect(document).not.toBeInstanceOf(Error);
            checkDocument(document as Document, record);
          }
          expect(({} as Record<string, unknown>).time).toBeUndefined();
        }),
        propertyParameters('elasticsearch documents', 150),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time on a deep dotted key, huge keys, and many keys sharing long prefixes',
    () => {
      // Each measured run builds the document a few times, so even small inputs take long enough to time.
      const timesFour =
        <T>(build: (input: T) => unknown) =>
        (input: T): void => {
          for (let n = 0; n < 4; n++) build(input);
        };
      const buildLog = timesFour((entries: Record<string, string>) => logDocument(logRecord({ attributes: entries, resource: entries })));
      const buildMetric = timesFour((entries: Record<string, string>) => metricDocument(metricRecord({ attributes: entries })));
      // One key of `size` segments: its prefixes were quadratic in its length (×16 here). Kept to keys of tens of
      // KiB: beyond, even a plain copy of the key is not linear on this machine (allocation and cache effects).
      const deepKey = (size: number): Record<string, string> => ({ [Array.from({ length: size }, () => 'a').join('.')]: 'v' });
      expectLinearTime(deepKey, buildLog, { maxBaseSize: 1 << 11, minBaseMs: 1 });
      // Huge keys, one with an unsafe segment: work per key is linear in its length.
      const hugeKeys = (size: number): Record<string, string> => ({ [`${'k'.repeat(size)}.__proto__`]: 'v', [`h.${'h'.repeat(size)}`]: 'w' });
      // Up to 128 Ki characters: beyond, the time is V8's large-object allocation and GC, not the builder.
      expectLinearTime(hugeKeys, buildLog, { maxBaseSize: 1 << 15, minBaseMs: 4 });
      // Many keys sharing an 18-segment prefix, and many unsafe keys. Objects of thousands of keys are where V8 is
      // least linear itself (Object.entries of a plain object measured ×3-×10 per ×4 keys here, loaded), so these
      // start at a few thousand keys with a looser bound; a quadratic builder would take ×16.
      const prefix = Array.from({ length: MAX_FIELD_DEPTH - 2 }, (_, n) => `p${n}`).join('.');
      const sharedPrefixes = (size: number): Record<string, string> => Object.fromEntries(Array.from({ length: size }, (_, n) => [`${prefix}.k${n}`, 'v']));
      const manyKeys = { minBaseMs: 20, maxBaseSize: 4096, maxRatio: 10 };
      expectLinearTime(sharedPrefixes, buildLog, manyKeys);
      const unsafeMany = (size: number): Record<string, string> =>
        Object.fromEntries(Array.from({ length: size }, (_, n) => [`x${n}.__proto__.constructor.prototype.time`, 'v']));
      expectLinearTime(unsafeMany, buildMetric, manyKeys);
    },
    propertyTimeoutMs(),
  );
});
