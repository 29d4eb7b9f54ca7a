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
import { logRecord } from '../../../test/helpers/records.js';
import { parsePathTemplate, renderDirectory, type PathTemplate } from './path-template.js';

/**
 * The HDFS path template's boundary contract: any template source parses to a
 * template or a message (never a throw); any record renders to a directory
 * below the template's base, with no empty, `.`, `..` or hidden segment from
 * data and none over HDFS's 255-byte component limit, no prototype touched, in
 * time linear in the input.
 */

const keyName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'service.name', 'x.__proto__.time', 'a'),
  fc.string({ maxLength: 12 }),
);
const value = fc.oneof(
  fc.constantFrom('.', '..', '_x', '.hidden', '../../etc', '/', '%2F', '{', '}', ''),
  fc.string({ maxLength: 300, unit: 'grapheme' }),
  fc.string({ maxLength: 300, unit: 'binary' }),
);
const entries = fc.array(fc.tuple(keyName, value), { maxLength: 12 }).map((pairs) => Object.fromEntries(pairs) as Record<string, string>);
const templateSource = fc.oneof(
  fc.constantFrom(
    '/logs/{service.name}/dt={yyyy-MM-dd}/hr={HH}/',
    '/d/{__proto__}/{constructor}/{attributes.x.__proto__.time}/{resource.toString}/{record.type}',
    '/base/{a}{a}{a}{a}/{yyyyMMddHHmm}',
  ),
  fc
    .array(
      fc.oneof(
        keyName.map((name) => `{${name}}`),
        fc.string({ maxLength: 6 }),
        fc.constantFrom('/', '{yyyy}', '{', '}'),
      ),
      { maxLength: 10 },
    )
    .map((parts) => `/${parts.join('')}`),
);

function checkDirectory(template: PathTemplate, directory: string): void {
  if (template.segments.length === 0) {
    expect(directory).toBe(template.base);
    return;
  }
  const base = template.base === '/' ? '' : template.base;
  expect(directory.startsWith(`${base}/`) || directory === template.base).toBe(true);
  const below = directory.slice(base.length + 1).split('/');
  expect(below).toHaveLength(template.segments.length);
  for (const segment of below) {
    expect(segment).not.toBe('');
    expect(segment).not.toBe('.');
    expect(segment).not.toBe('..');
    expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(255);
  }
}

describe('HDFS path templates: boundary contract', () => {
  it(
    'any template parses or explains; any record renders below the base, within HDFS limits, prototypes untouched',
    () => {
      fc.assert(
        fc.property(templateSource, entries, entries, fc.string({ maxLength: 40 }), (source, attributes, resource, timestamp) => {
          const parsed = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => parsePathTemplate(source), [TributaryError]));
          if (typeof parsed === 'string' || parsed instanceof Error) return;
          const record = logRecord({ attributes, resource, timestamp });
          const directory = expectPrototypesUntouched(() => expectOnlyTypedErrors(() => renderDirectory(parsed, record, 'unknown'), [TributaryError]));
          expect(typeof directory).toBe('string');
          checkDirectory(parsed, directory as string);
        }),
        propertyParameters('hdfs path templates', 200),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'linear time on huge values, runs of dots and escapes, and huge timestamps',
    () => {
      const template = parsePathTemplate('/logs/{a}/{b}/{c}/dt={yyyy-MM-dd}') as PathTemplate;
      const render = (record: ReturnType<typeof logRecord>): void => {
        for (let n = 0; n < 4; n++) renderDirectory(template, record, 'unknown');
      };
      const shaped = (size: number) =>
        logRecord({
          attributes: { a: '.'.repeat(size), b: '%/:'.repeat(size), c: '\uD83D\uDE00'.repeat(size) },
          timestamp: `2026-11-23T09:05${'9'.repeat(size)}`,
        });
      expectLinearTime(shaped, render, { maxBaseSize: 1 << 12, minBaseMs: 2, repetitions: 5 });
      const longTemplate = (size: number): string => `/x/${'{a}'.repeat(size)}`;
      // A template is config; up to a few thousand placeholders (beyond, allocation of the parts dominates here).
      expectLinearTime(longTemplate, (source) => parsePathTemplate(source), { maxBaseSize: 1 << 10, minBaseMs: 1, repetitions: 5 });
    },
    propertyTimeoutMs(),
  );
});
