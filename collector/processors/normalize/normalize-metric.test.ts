import { describe, expect, it } from 'vitest';
import type { RawMetricEvent } from '../../../shared/record/raw-event.js';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { metricRecordErrors } from '../../../test/helpers/schemas.js';
import { asRawMetricEvent, normalizeMetricEvent, toExplicitBuckets } from './normalize-metric.js';

const ID = '0123456789abcdef0123456789abcdef';

/** A raw counter as the agent frames it; overrides replace whole fields. */
function raw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID,
    observed_at: '2026-11-23T12:00:00.000Z',
    host: 'node-1',
    agent_id: 'agent-7',
    source: { type: 'prometheus_scrape', name: 'scrape', job: 'api', instance: '10.0.0.5:9100' },
    name: 'http_requests_total',
    type: 'counter',
    help: 'Requests handled.',
    labels: { job: 'api', instance: '10.0.0.5:9100', method: 'GET', code: '200' },
    value: 1027,
    ...overrides,
  };
}

const normalize = (overrides: Record<string, unknown> = {}, staticResource: Record<string, string> = {}) =>
  normalizeMetricEvent(asRawMetricEvent(raw(overrides)), staticResource);

const histogramEvent = (buckets: RawMetricEvent['buckets'], extra: Record<string, unknown> = {}) =>
  raw({ name: 'http_request_duration_seconds', type: 'histogram', labels: { job: 'api', instance: 'i' }, value: undefined, buckets, ...extra });

describe('normalizeMetricEvent', () => {
  it('maps a counter onto a monotonic cumulative sum, job and instance onto the resource', () => {
    const record = normalize({ time: '2026-11-23T11:59:59.500Z', created: '2026-11-20T08:00:00.000Z', unit: 'requests' }, { 'deployment.environment': 'prod' });
    expect(record).toEqual({
      schema: 'tributary.metric.v1',
      id: ID,
      name: 'http_requests_total',
      description: 'Requests handled.',
      unit: 'requests',
      type: 'sum',
      prometheus_type: 'counter',
      is_monotonic: true,
      aggregation_temporality: 'cumulative',
      timestamp: '2026-11-23T11:59:59.500Z',
      observed_timestamp: '2026-11-23T12:00:00.000Z',
      start_timestamp: '2026-11-20T08:00:00.000Z',
      value: 1027,
      attributes: { method: 'GET', code: '200' },
      resource: {
        'deployment.environment': 'prod',
        job: 'api',
        instance: '10.0.0.5:9100',
        'service.name': 'api',
        'service.instance.id': '10.0.0.5:9100',
        'host.name': 'node-1',
        'tributary.agent.id': 'agent-7',
      },
    });
  });

  it('13.1: __proto__, constructor and prototype labels (valid Prometheus names) stay data under safe keys', () => {
    const labels = JSON.parse('{"job":"api","instance":"i","__proto__":"a","constructor":"b","prototype":"c"}') as Record<string, string>;
    const record = expectPrototypesUntouched(() => normalize({ labels }));
    expect(record.attributes).toEqual({ ___proto__: 'a', _constructor: 'b', _prototype: 'c' });
    expect(Object.getPrototypeOf(record.attributes)).toBeNull();
    expect(Object.getPrototypeOf(record.resource)).toBeNull();
  });

  it('maps a gauge, timed at the scrape when the sample has no timestamp', () => {
    const record = normalize({ name: 'temperature_celsius', type: 'gauge', help: undefined, value: -3.5 });
    expect(record).toMatchObject({ type: 'gauge', prometheus_type: 'gauge', value: -3.5, timestamp: '2026-11-23T12:00:00.000Z' });
    expect(record).not.toHaveProperty('is_monotonic');
    expect(record).not.toHaveProperty('aggregation_temporality');
    expect(record).not.toHaveProperty('start_timestamp');
    expect(record).not.toHaveProperty('description');
  });

  it('keeps NaN and the infinities as the strings Prometheus writes, through JSON too', () => {
    for (const value of ['NaN', '+Inf', '-Inf'] as const) {
      const record = normalize({ type: 'gauge', value });
      expect(record.value).toBe(value);
      expect((JSON.parse(JSON.stringify(record)) as { value: unknown }).value).toBe(value);
    }
  });

  it('maps info, stateset and unknown onto gauges, keeping the exposed type', () => {
    expect(normalize({ name: 'build_info', type: 'info', value: 1, labels: { job: 'api', instance: 'i', version: '1.2.3' } })).toMatchObject({
      type: 'gauge',
      prometheus_type: 'info',
      value: 1,
      attributes: { version: '1.2.3' },
    });
    expect(normalize({ name: 'feature', type: 'stateset', value: 0, labels: { job: 'api', instance: 'i', feature: 'b' } })).toMatchObject({
      type: 'gauge',
      prometheus_type: 'stateset',
      value: 0,
      attributes: { feature: 'b' },
    });
    expect(normalize({ name: 'legacy', type: 'unknown', value: 7 })).toMatchObject({ type: 'gauge', prometheus_type: 'unknown', value: 7 });
  });

  it('turns cumulative buckets into explicit bounds and per-bucket counts', () => {
    const record = normalizeMetricEvent(
      asRawMetricEvent(
        histogramEvent(
          [
            { le: 0.1, count: 2 },
            { le: 0.5, count: 5 },
            { le: 1, count: 9 },
            { le: '+Inf', count: 10 },
          ],
          { count: 10, sum: 4.25, created: '2026-11-20T08:00:00.000Z' },
        ),
      ),
    );
    expect(record).toMatchObject({
      type: 'histogram',
      prometheus_type: 'histogram',
      aggregation_temporality: 'cumulative',
      start_timestamp: '2026-11-20T08:00:00.000Z',
      histogram: { count: 10, sum: 4.25, explicit_bounds: [0.1, 0.5, 1], bucket_counts: [2, 3, 4, 1] },
    });
    expect(record).not.toHaveProperty('value');
    expect(record).not.toHaveProperty('is_monotonic');
  });

  it('maps a gaugehistogram onto a histogram without cumulative temporality', () => {
    const record = normalize({
      name: 'queue_wait_seconds',
      type: 'gaugehistogram',
      value: undefined,
      buckets: [
        { le: 1, count: 3 },
        { le: '+Inf', count: 4 },
      ],
      count: 4,
    });
    expect(record).toMatchObject({
      type: 'histogram',
      prometheus_type: 'gaugehistogram',
      histogram: { count: 4, explicit_bounds: [1], bucket_counts: [3, 1] },
    });
    expect(record).not.toHaveProperty('aggregation_temporality');
  });

  it('maps a summary, keeping its quantiles in order and a NaN quantile value', () => {
    const record = normalize({
      name: 'rpc_duration_seconds',
      type: 'summary',
      value: undefined,
      quantiles: [
        { quantile: 0.5, value: 0.012 },
        { quantile: 0.99, value: 'NaN' },
      ],
      sum: 17.5,
      count: 1200,
    });
    expect(record).toMatchObject({
      type: 'summary',
      prometheus_type: 'summary',
      summary: {
        count: 1200,
        sum: 17.5,
        quantile_values: [
          { quantile: 0.5, value: 0.012 },
          { quantile: 0.99, value: 'NaN' },
        ],
      },
    });
    expect(record).not.toHaveProperty('aggregation_temporality');
  });

  it("takes job and instance from the series' labels over the source's (relabelling or honor_labels changed them)", () => {
    const record = normalize({ labels: { job: 'federated', instance: 'remote:9090', method: 'GET' } });
    expect(record.resource).toMatchObject({ job: 'federated', instance: 'remote:9090', 'service.name': 'federated', 'service.instance.id': 'remote:9090' });
    expect(normalize({ labels: { method: 'GET' } }).resource).toMatchObject({ job: 'api', instance: '10.0.0.5:9100' });
  });

  it("lets the event's own resource values win over the collector's static resource", () => {
    expect(normalize({}, { 'host.name': 'static', region: 'eu' }).resource).toMatchObject({ 'host.name': 'node-1', region: 'eu' });
  });
});

describe('toExplicitBuckets', () => {
  it('gives the overflow bucket count minus the last finite bucket when +Inf is missing', () => {
    expect(
      toExplicitBuckets(
        [
          { le: 1, count: 4 },
          { le: 2, count: 6 },
        ],
        9,
      ),
    ).toEqual({ count: 9, explicit_bounds: [1, 2], bucket_counts: [4, 2, 3] });
  });

  it('takes the count from the +Inf bucket when count is absent, and prefers count when both are there', () => {
    expect(toExplicitBuckets([{ le: '+Inf', count: 5 }], undefined)).toEqual({ count: 5, explicit_bounds: [], bucket_counts: [5] });
    expect(
      toExplicitBuckets(
        [
          { le: 1, count: 1 },
          { le: '+Inf', count: 5 },
        ],
        6,
      ),
    ).toEqual({ count: 6, explicit_bounds: [1], bucket_counts: [1, 5] });
  });

  it('sorts bounds given out of order', () => {
    expect(
      toExplicitBuckets(
        [
          { le: '+Inf', count: 6 },
          { le: 2, count: 5 },
          { le: 0.5, count: 1 },
        ],
        6,
      ),
    ).toEqual({ count: 6, explicit_bounds: [0.5, 2], bucket_counts: [1, 4, 1] });
  });

  it('makes decreasing cumulative counts non-decreasing, so no bucket is negative and the counts sum to count', () => {
    // 0.5 dips below 0.1, and count is below the largest bucket: a dip takes the previous count, count rises to the largest.
    expect(
      toExplicitBuckets(
        [
          { le: 0.1, count: 5 },
          { le: 0.5, count: 3 },
          { le: 1, count: 7 },
          { le: '+Inf', count: 7 },
        ],
        6,
      ),
    ).toEqual({ count: 7, explicit_bounds: [0.1, 0.5, 1], bucket_counts: [5, 0, 2, 0] });
  });

  it('gives an empty histogram one empty overflow bucket', () => {
    expect(toExplicitBuckets([], 0)).toEqual({ count: 0, explicit_bounds: [], bucket_counts: [0] });
  });
});

describe('asRawMetricEvent', () => {
  const problem = (overrides: Record<string, unknown>) => () => asRawMetricEvent(raw(overrides));

  it('names the event and every missing or invalid field', () => {
    expect(problem({ host: 3, labels: { job: 'api', port: 9100 }, value: 'lots', source: { type: 'prometheus_scrape', name: 's', job: 'api' } })).toThrow(
      `raw metric event ${ID} has missing or invalid fields: host, source, labels, value`,
    );
    expect(problem({ type: 'histogram_total' })).toThrow(/fields: type$/);
    expect(problem({ name: '' })).toThrow(/fields: name$/);
    expect(problem({ value: undefined })).toThrow(/fields: value$/);
    expect(problem({ help: 7, unit: null })).toThrow(/fields: help, unit$/);
  });

  it('requires RFC 3339 times: observed_at, time, created', () => {
    expect(problem({ observed_at: 'Nov 23 2026' })).toThrow(/fields: observed_at$/);
    expect(problem({ time: '2026-02-30T00:00:00Z' })).toThrow(/fields: time$/);
    expect(problem({ created: 1732000000 })).toThrow(/fields: created$/);
    expect(() => asRawMetricEvent(raw({ time: '2026-11-23T11:59:59.123456789+01:00' }))).not.toThrow();
  });

  it('requires a 32-hex id, and says when there is none', () => {
    expect(problem({ id: 'scrape-1' })).toThrow('raw metric event scrape-1 has missing or invalid fields: id');
    expect(problem({ id: undefined })).toThrow('raw metric event (no id) has missing or invalid fields: id');
    expect(() => asRawMetricEvent([1])).toThrow('raw metric event is not a JSON object');
  });

  it('rejects histogram buckets with NaN or repeated bounds or fractional counts, and a histogram with no total', () => {
    const buckets = (value: unknown) => problem({ type: 'histogram', value: undefined, buckets: value, count: 3 });
    expect(buckets([{ le: 'NaN', count: 1 }])).toThrow(/fields: buckets$/);
    expect(buckets([{ le: '-Inf', count: 1 }])).toThrow(/fields: buckets$/);
    expect(
      buckets([
        { le: 1, count: 1 },
        { le: 1, count: 2 },
      ]),
    ).toThrow(/fields: buckets$/);
    expect(buckets([{ le: 1, count: 1.5 }])).toThrow(/fields: buckets$/);
    expect(buckets({ 1: 3 })).toThrow(/fields: buckets$/);
    expect(problem({ type: 'histogram', value: undefined, buckets: [{ le: 1, count: 1 }] })).toThrow(/fields: count$/);
    expect(problem({ type: 'histogram', value: undefined, buckets: [{ le: 1, count: 1 }], count: -1 })).toThrow(/fields: count$/);
  });

  it('rejects a summary without count or with a quantile outside 0..1', () => {
    expect(problem({ type: 'summary', value: undefined, quantiles: [] })).toThrow(/fields: count$/);
    expect(problem({ type: 'summary', value: undefined, quantiles: [{ quantile: 1.5, value: 1 }], count: 1 })).toThrow(/fields: quantiles$/);
    expect(problem({ type: 'summary', value: undefined, quantiles: [{ quantile: 0.5, value: 'inf' }], count: 1, sum: 'Infinity' })).toThrow(
      /fields: sum, quantiles$/,
    );
  });
});

describe('the published schema (shared/record/schemas/tributary.metric.v1.json)', () => {
  const everyShape = () => [
    normalize({ created: '2026-11-20T08:00:00.000Z', unit: 'requests', time: '2026-11-23T11:59:59.500Z' }, { region: 'eu' }),
    normalize({ type: 'gauge', value: 'NaN' }),
    normalize({ type: 'info', value: 1 }),
    normalize({ type: 'stateset', value: 1 }),
    normalize({ type: 'unknown', value: '-Inf' }),
    normalize({
      type: 'histogram',
      value: undefined,
      buckets: [
        { le: 0.5, count: 1 },
        { le: '+Inf', count: 2 },
      ],
      count: 2,
      sum: '+Inf',
    }),
    normalize({ type: 'histogram', value: undefined, buckets: [{ le: '+Inf', count: 0 }] }),
    normalize({ type: 'gaugehistogram', value: undefined, buckets: [{ le: 1, count: 3 }], count: 3 }),
    normalize({ type: 'summary', value: undefined, quantiles: [{ quantile: 0.9, value: 'NaN' }], count: 3, sum: 1.5 }),
    normalize({ type: 'summary', value: undefined, quantiles: [], count: 0 }),
  ];

  it('accepts every shape the normalizer emits', () => {
    for (const record of everyShape()) expect(metricRecordErrors(JSON.parse(JSON.stringify(record))), record.prometheus_type).toBeUndefined();
  });

  it('rejects records that break the type rules or the histogram invariants', () => {
    const [counter, gauge, , , , histogram, , , summary] = everyShape();
    expect(metricRecordErrors({ ...gauge, id: 'not-hex' })).toMatch(/pattern/);
    expect(metricRecordErrors({ ...gauge, extra: 1 })).toMatch(/additionalProperties/);
    expect(metricRecordErrors({ ...gauge, value: undefined })).toMatch(/must have required property 'value'/);
    expect(metricRecordErrors({ ...gauge, value: 'Infinity' })).toMatch(/anyOf/);
    expect(metricRecordErrors({ ...gauge, is_monotonic: true })).toMatch(/is_monotonic/);
    expect(metricRecordErrors({ ...gauge, histogram: histogram?.histogram })).toMatch(/histogram/);
    expect(metricRecordErrors({ ...counter, type: 'gauge', is_monotonic: undefined, aggregation_temporality: undefined })).toMatch(/"const"/);
    expect(metricRecordErrors({ ...counter, is_monotonic: undefined })).toMatch(/is_monotonic/);
    expect(metricRecordErrors({ ...summary, summary: undefined })).toMatch(/must have required property 'summary'/);
    expect(metricRecordErrors({ ...summary, attributes: { n: 1 } })).toMatch(/attributes/);
    expect(metricRecordErrors({ ...histogram, aggregation_temporality: undefined })).toMatch(/aggregation_temporality/);
    expect(metricRecordErrors({ ...histogram, timestamp: 'yesterday' })).toMatch(/date-time/);
    const bad = (part: object) => metricRecordErrors({ ...histogram, histogram: { ...histogram?.histogram, ...part } });
    expect(bad({ bucket_counts: [1, 1, 0] })).toMatch(/1 bounds but 3 bucket counts/);
    expect(bad({ count: 5 })).toMatch(/sum to 2, not count 5/);
    expect(bad({ explicit_bounds: [0.5, 0.5], bucket_counts: [1, 0, 1] })).toMatch(/do not ascend/);
    expect(bad({ bucket_counts: [1.5, 0.5] })).toMatch(/integer/);
  });
});
