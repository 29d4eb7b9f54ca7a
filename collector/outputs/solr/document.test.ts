import { describe, expect, it } from 'vitest';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { solrOutputSchema } from './config.js';
import { fieldStem, logDocument, metricDocument, solrDate } from './document.js';

const mapping = (value: Record<string, unknown> = {}) =>
  solrOutputSchema.parse({ type: 'solr', endpoints: ['http://localhost:8983/solr'], mapping: value }).mapping;

describe('Solr documents', () => {
  it('maps a log record to typed dynamic fields, attributes and resource flattened by type', () => {
    const document = logDocument(
      logRecord({
        id: 'a'.repeat(32),
        timestamp: '2026-11-24T01:30:00.123456789+01:00',
        severity_text: 'WARN',
        severity_number: 13,
        body: 'disk almost full',
        trace_id: 't1',
        span_id: 's1',
        attributes: { 'log.file.path': '/var/log/a.log', 'log.record.offset': 42, ratio: 0.5, retry: false, 'weird key/ü': 'x' },
        resource: { 'service.name': 'api', 'host.name': 'h1' },
      }),
      mapping(),
    );
    expect(document).toEqual({
      id: 'a'.repeat(32),
      schema_s: 'tributary.log.v1',
      timestamp_dt: '2026-11-24T00:30:00.123Z',
      observed_timestamp_dt: '2026-11-23T12:00:00.000Z',
      severity_text_s: 'WARN',
      severity_number_l: 13,
      body_t: 'disk almost full',
      trace_id_s: 't1',
      span_id_s: 's1',
      'attributes.log.file.path_s': '/var/log/a.log',
      'attributes.log.record.offset_d': 42,
      'attributes.ratio_d': 0.5,
      'attributes.retry_b': false,
      'attributes.weird_key___s': 'x',
      'resource.service.name_s': 'api',
      'resource.host.name_s': 'h1',
    });
  });

  it('maps metric records: values, histograms, summaries, and NaN/Inf without failing the document', () => {
    const histogram = metricDocument(
      metricRecord({
        id: 'b'.repeat(32),
        name: 'latency_seconds',
        type: 'histogram',
        prometheus_type: 'histogram',
        unit: 'seconds',
        description: 'Latency.',
        aggregation_temporality: 'cumulative',
        start_timestamp: '2026-11-23T00:00:00Z',
        value: undefined,
        histogram: { count: 3, sum: '+Inf', explicit_bounds: [0.5], bucket_counts: [2, 1] },
        attributes: { route: '/' },
        resource: { job: 'api' },
      }),
      mapping(),
    );
    expect(histogram).toEqual({
      id: 'b'.repeat(32),
      schema_s: 'tributary.metric.v1',
      timestamp_dt: '2026-11-23T12:00:00.000Z',
      observed_timestamp_dt: '2026-11-23T12:00:00.000Z',
      name_s: 'latency_seconds',
      description_s: 'Latency.',
      unit_s: 'seconds',
      type_s: 'histogram',
      prometheus_type_s: 'histogram',
      temporality_s: 'cumulative',
      start_timestamp_dt: '2026-11-23T00:00:00.000Z',
      histogram_count_l: 3,
      histogram_sum_special_s: '+Inf',
      histogram_bounds_ds: [0.5],
      histogram_counts_ls: [2, 1],
      'attributes.route_s': '/',
      'resource.job_s': 'api',
    });
    expect(metricDocument(metricRecord({ type: 'sum', prometheus_type: 'counter', is_monotonic: true, value: 7 }), mapping())).toMatchObject({
      value_d: 7,
      monotonic_b: true,
    });
    expect(metricDocument(metricRecord({ value: 'NaN' }), mapping())).toMatchObject({ value_special_s: 'NaN' });
    const summary = metricDocument(
      metricRecord({
        type: 'summary',
        prometheus_type: 'summary',
        value: undefined,
        summary: {
          count: 2,
          sum: 1,
          quantile_values: [
            { quantile: 0.5, value: 0.2 },
            { quantile: 0.99, value: 0.9 },
          ],
        },
      }),
      mapping(),
    );
    expect(summary).toMatchObject({ summary_count_l: 2, summary_sum_d: 1, summary_quantiles_ds: [0.5, 0.99], summary_values_ds: [0.2, 0.9] });
    const empty = metricDocument(
      metricRecord({
        type: 'summary',
        prometheus_type: 'summary',
        value: undefined,
        summary: { count: 0, quantile_values: [{ quantile: 0.5, value: 'NaN' }] },
      }),
      mapping(),
    );
    expect(empty.summary_values_ds).toEqual(['NaN']);
  });

  it('follows mapping.fields: renames, drops, and in explicit mode sends only what is named (and always the id)', () => {
    const record = logRecord({ id: 'c'.repeat(32), body: 'hi', attributes: { amount: 5, note: 'n' }, resource: { 'service.name': 'pay' } });
    expect(logDocument(record, mapping({ fields: { body: 'message_txt', 'attributes.note': false, id: 'event_id' } }))).toEqual({
      event_id: 'c'.repeat(32),
      schema_s: 'tributary.log.v1',
      timestamp_dt: '2026-11-23T12:00:00.000Z',
      observed_timestamp_dt: '2026-11-23T12:00:00.000Z',
      severity_number_l: 9,
      message_txt: 'hi',
      'attributes.amount_d': 5,
      'resource.service.name_s': 'pay',
    });
    expect(logDocument(record, mapping({ mode: 'explicit', fields: { body: 'message_t', 'attributes.amount': 'amount_i' } }))).toEqual({
      id: 'c'.repeat(32),
      message_t: 'hi',
      amount_i: 5,
    });
  });

  it('cuts long strings for *_s fields, keeps the first of two keys that sanitize alike, and keeps an unreadable timestamp as text', () => {
    const long = 'x'.repeat(20_000);
    const document = logDocument(
      logRecord({ timestamp: 'not a time', body: long, attributes: { 'a b': 'first', a_b: 'second', big: long } }),
      mapping({ max_string_chars: 100 }),
    );
    expect(document.body_t).toBe(long);
    expect(document['attributes.big_s']).toBe('x'.repeat(100));
    expect(document['attributes.a_b_s']).toBe('first');
    expect(document.timestamp_raw_s).toBe('not a time');
    expect(document.timestamp_dt).toBeUndefined();
  });

  it('spells names and dates as Solr wants them', () => {
    expect(fieldStem('k8s.pod-name')).toBe('k8s.pod_name');
    expect(fieldStem('')).toBe('_');
    expect(solrDate('2026-11-24T00:30:00+02:00')).toBe('2026-11-23T22:30:00.000Z');
    expect(solrDate('+012026-01-01T00:00:00Z')).toBeUndefined();
    expect(solrDate('garbage')).toBeUndefined();
  });
});

describe('13.1: keys that name prototype machinery', () => {
  it('13.1: x.__proto__.time is a flat field, Object.prototype is untouched and the next document is unaffected', () => {
    const hostile = JSON.parse('{"x.__proto__.time":"2099-01-01T00:00:00Z"}') as Record<string, string>;
    const first = expectPrototypesUntouched(() => logDocument(logRecord({ attributes: hostile }), mapping()));
    expect(first['attributes.x.__proto__.time_s']).toBe('2099-01-01T00:00:00Z');
    expect(({} as Record<string, unknown>).time).toBeUndefined();
    const second = logDocument(logRecord({ timestamp: '2026-11-24T10:00:00Z' }), mapping());
    expect(second.timestamp_dt).toBe('2026-11-24T10:00:00.000Z');
    expect(Object.keys(second).some((field) => field.startsWith('attributes.'))).toBe(false);
  });

  it('13.1: a field configured as __proto__ is an own field of a prototype-free document', () => {
    const document = expectPrototypesUntouched(() =>
      metricDocument(metricRecord({ attributes: { constructor: 'c' } }), mapping({ fields: { name: '__proto__', 'attributes.constructor': 'prototype' } })),
    );
    expect(Object.getPrototypeOf(document)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(document, '__proto__')?.value).toBe('up');
    expect(document.prototype).toBe('c');
    expect(JSON.parse(JSON.stringify(document))).toMatchObject({ prototype: 'c' });
    expect(JSON.stringify(document)).toContain('"__proto__":"up"');
  });
});
