/**
 * The boundary contract of turning parsed families into raw metric events: whatever numbers, times and label names a
 * target exposes, conversion never throws, every event it yields is one the collector accepts (or refuses only for a
 * missing count, its own documented dead letter), refused samples are counted, and no prototype changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asRawMetricEvent } from '../../collector/processors/normalize/normalize-metric.js';
import { TributaryError } from '../../shared/errors.js';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import {
  expectLinearTime,
  expectOnlyTypedErrors,
  expectPrototypesUntouched,
  propertyParameters,
  propertyTimeoutMs,
} from '../../shared/test-support/boundary-contract.js';
import type { Labels, MetricFamily, MetricType, Series } from './families.js';
import { emptySampleCounts, familyEvents, MetricEventIds, sampleCount, type MetricEventContext } from './to-raw-events.js';

const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'job', 'instance', 'exported_job', 'x'];
const number = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e300, -1e300, 1e17, 8.64e15, 253402300800000, Number.MAX_SAFE_INTEGER + 2),
  fc.integer({ min: 0, max: 1000 }),
);
const labels: fc.Arbitrary<Labels> = fc.array(fc.tuple(fc.constantFrom(...HOSTILE_NAMES), fc.string({ maxLength: 5 })), { maxLength: 5 }).map((entries) => {
  const result: Labels = {};
  // As the parser stores them: own properties, `__proto__` included.
  for (const [name, value] of entries) Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true });
  return result;
});
const optionalNumber = fc.option(number, { nil: undefined });
const base = fc.record({ name: fc.constantFrom('m', 'm_total', '__proto__'), labels, timestampMs: optionalNumber, created: optionalNumber });
const series: fc.Arbitrary<{ type: MetricType; series: Series }> = fc.oneof(
  fc
    .tuple(base, number, fc.constantFrom<MetricType>('counter', 'gauge', 'unknown', 'info', 'stateset'))
    .map(([common, value, type]) => ({ type, series: { ...common, kind: 'value' as const, value } })),
  fc.tuple(base, fc.array(fc.record({ le: number, count: number }), { maxLength: 5 }), optionalNumber, optionalNumber).map(([common, buckets, sum, count]) => ({
    type: 'histogram' as const,
    series: { ...common, kind: 'histogram' as const, buckets: [...buckets].sort((a, b) => a.le - b.le), sum, count },
  })),
  fc
    .tuple(base, fc.array(fc.record({ quantile: number, value: number }), { maxLength: 4 }), optionalNumber, optionalNumber)
    .map(([common, quantiles, sum, count]) => ({ type: 'summary' as const, series: { ...common, kind: 'summary' as const, quantiles, sum, count } })),
);

/** Drops keys whose value is undefined, as the parser never sets them. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

function context(honorTimestamps: boolean): MetricEventContext {
  return {
    host: 'host-1',
    agentId: 'agent-1',
    source: { type: 'prometheus_scrape', name: 'prom', job: 'app', instance: 'localhost:9100' },
    scrapeTimeMs: 1_800_000_000_000,
    honorTimestamps,
  };
}

describe('familyEvents boundary contract', () => {
  it(
    'never throws, yields only events the collector accepts, and counts every sample it refuses',
    () => {
      fc.assert(
        fc.property(fc.array(series, { maxLength: 8 }), labels, fc.boolean(), fc.boolean(), (members, targetLabels, honorTimestamps, honorLabels) => {
          const families: MetricFamily[] = members.map(({ type, series: member }) => ({ name: 'm', type, series: [withoutUndefined(member)] }));
          const ids = new MetricEventIds('target');
          ids.beginScrape(1_800_000_000_000);
          const counts = emptySampleCounts();
          const events = expectPrototypesUntouched(() =>
            expectOnlyTypedErrors(() => [...familyEvents(families, { ids, context: context(honorTimestamps), targetLabels, honorLabels }, counts)], []),
          );
          if (events instanceof Error) throw events;
          expect(events.length).toBeLessThanOrEqual(families.length);
          const total = families.reduce((sum, family) => sum + family.series.reduce((inner, member) => inner + sampleCount(member), 0), 0);
          expect(counts.samples + counts.invalid).toBe(total);
          if (counts.invalid > 0) expect(typeof counts.firstInvalidReason).toBe('string');
          for (const event of events) {
            // What the agent ships is what the collector reads: JSON, then its own validation.
            const shipped = JSON.parse(JSON.stringify(event)) as unknown;
            const checked = expectOnlyTypedErrors(() => asRawMetricEvent(shipped), [TributaryError]);
            if (checked instanceof Error) expect(checked.message).toMatch(/has missing or invalid fields: count$/);
            expect(Object.keys((shipped as RawMetricEvent).labels).sort()).toEqual(Object.keys(event.labels).sort());
          }
        }),
        propertyParameters('to-raw-events: families to events', 300),
      );
    },
    propertyTimeoutMs(),
  );

  it(
    'stays linear in the number of series and of target labels',
    () => {
      const ids = new MetricEventIds('target');
      const makeFamilies = (size: number): MetricFamily[] => [
        {
          name: 'm',
          type: 'histogram',
          series: Array.from({ length: size }, (_, index) => ({
            kind: 'histogram' as const,
            name: 'm',
            labels: { job: 'inner', n: String(index) },
            buckets: [{ le: Infinity, count: index }],
            timestampMs: index % 2 === 0 ? 1e300 : 1_700_000_000_000,
          })),
        },
      ];
      expectLinearTime(
        makeFamilies,
        (families) => {
          ids.beginScrape(1);
          const counts = emptySampleCounts();
          for (const event of familyEvents(
            families,
            { ids, context: context(true), targetLabels: { job: 'app', instance: 'x' }, honorLabels: false },
            counts,
          )) {
            JSON.stringify(event);
          }
          ids.endScrape();
        },
        { minBaseMs: 30, maxBaseSize: 1 << 15, maxRatio: 9 },
      );
    },
    propertyTimeoutMs(60_000),
  );
});
