import { describe, expect, it } from 'vitest';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { MAX_FIELD_DEPTH, logDocument, metricDocument } from './document.js';

describe('log documents', () => {
  it('map the record to ECS fields, resource and attributes at the top level', () => {
    const record = logRecord({
      id: 'a'.repeat(32),
      timestamp: '2026-11-23T12:00:00.123Z',
      observed_timestamp: '2026-11-23T12:00:01.000Z',
      severity_number: 17,
      severity_text: 'ERROR',
      body: 'disk full',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      attributes: { 'log.file.path': '/var/log/app.log', 'http.response.status_code': 500, retried: true },
      resource: { 'host.name': 'web-1', 'service.name': 'checkout', 'k8s.pod.name': 'checkout-7d9' },
    });
    expect(logDocument(record, { type: 'logs', dataset: 'generic', namespace: 'default' })).toEqual({
      '@timestamp': '2026-11-23T12:00:00.123Z',
      observed_timestamp: '2026-11-23T12:00:01.000Z',
      message: 'disk full',
      log: { level: 'ERROR', file: { path: '/var/log/app.log' } },
      severity_number: 17,
      trace: { id: '0af7651916cd43dd8448eb211c80319c' },
      span: { id: 'b7ad6b7169203331' },
      event: { id: 'a'.repeat(32) },
      data_stream: { type: 'logs', dataset: 'generic', namespace: 'default' },
      host: { name: 'web-1' },
      service: { name: 'checkout' },
      k8s: { pod: { name: 'checkout-7d9' } },
      http: { response: { status_code: 500 } },
      retried: true,
    });
  });

  it('leave out what the record lacks, and data_stream in index mode', () => {
    const document = logDocument(logRecord());
    expect(Object.keys(document)).toEqual(['@timestamp', 'observed_timestamp', 'message', 'severity_number', 'event']);
  });

  it('move keys that would conflict with a mapping to labels instead of failing the document', () => {
    const record = logRecord({
      severity_text: 'INFO',
      resource: { host: 'bare-host', 'host.name': 'web-1', service: 'x' },
      attributes: {
        message: 'shadow',
        'message.extra': 1,
        'log.level': 'warn',
        trace: 'abc',
        'event.id': 'other',
        _id: 'nope',
        'a..b': 1,
        user: 'root',
        'user.id': 7,
        'labels.env': 'prod',
        'data_stream.type': 'x',
        '@timestamp': 'later',
        ok: 'yes',
      },
    });
    const document = logDocument(record);
    expect(document.message).toBe('hello');
    expect(document.log).toEqual({ level: 'INFO' });
    expect(document.host).toEqual({ name: 'web-1' });
    expect(document.user).toEqual({ id: 7 });
    expect(document.ok).toBe('yes');
    expect(document.labels).toEqual({
      host: 'bare-host',
      service: 'x',
      message: 'shadow',
      message_extra: 1,
      log_level: 'warn',
      trace: 'abc',
      event_id: 'other',
      _id: 'nope',
      a__b: 1,
      user: 'root',
      env: 'prod',
      data_stream_type: 'x',
      '@timestamp': 'later',
    });
  });

  it('let an attribute win over the resource for the same field, and a scalar yield to an object in the same document', () => {
    const document = logDocument(
      logRecord({ resource: { 'host.name': 'agent-host', app: 'a' }, attributes: { 'host.name': 'syslog-host', 'app.version': '2' } }),
    );
    expect(document.host).toEqual({ name: 'syslog-host' });
    expect(document.app).toEqual({ version: '2' });
    expect(document.labels).toEqual({ app: 'a' });
  });
});

describe('metric documents', () => {
  it('put the data point under metric.*, labels under labels (dots as _), the resource at the top level', () => {
    const record = metricRecord({
      id: 'b'.repeat(32),
      name: 'http_requests_total',
      type: 'sum',
      prometheus_type: 'counter',
      is_monotonic: true,
      aggregation_temporality: 'cumulative',
      start_timestamp: '2026-11-23T00:00:00Z',
      unit: 'requests',
      description: 'Requests served.',
      value: 1027,
      attributes: { method: 'GET', 'url.scheme': 'https' },
      resource: { job: 'api', instance: 'api-1:9100', 'service.name': 'api', 'host.name': 'api-1' },
    });
    expect(metricDocument(record, { type: 'metrics', dataset: 'generic', namespace: 'default' })).toEqual({
      '@timestamp': '2026-11-23T12:00:00.000Z',
      observed_timestamp: '2026-11-23T12:00:00.000Z',
      metric: {
        name: 'http_requests_total',
        type: 'sum',
        prometheus_type: 'counter',
        unit: 'requests',
        description: 'Requests served.',
        monotonic: true,
        temporality: 'cumulative',
        start_timestamp: '2026-11-23T00:00:00Z',
        value: 1027,
      },
      event: { id: 'b'.repeat(32) },
      data_stream: { type: 'metrics', dataset: 'generic', namespace: 'default' },
      job: 'api',
      instance: 'api-1:9100',
      service: { name: 'api' },
      host: { name: 'api-1' },
      labels: { method: 'GET', url_scheme: 'https' },
    });
  });

  it('write histograms and summaries in the OpenTelemetry shape, non-finite numbers as *_special text', () => {
    const histogram = metricDocument(
      metricRecord({
        type: 'histogram',
        prometheus_type: 'histogram',
        value: undefined,
        histogram: { count: 3, sum: '+Inf', explicit_bounds: [0.1, 1], bucket_counts: [1, 1, 1] },
      }),
    );
    expect(histogram.metric).toEqual({
      name: 'up',
      type: 'histogram',
      prometheus_type: 'histogram',
      histogram: { count: 3, sum_special: '+Inf', explicit_bounds: [0.1, 1], bucket_counts: [1, 1, 1] },
    });
    const summary = metricDocument(
      metricRecord({
        type: 'summary',
        prometheus_type: 'summary',
        value: undefined,
        summary: {
          count: 0,
          sum: 0,
          quantile_values: [
            { quantile: 0.5, value: 'NaN' },
            { quantile: 0.99, value: 2.5 },
          ],
        },
      }),
    );
    expect(summary.metric).toMatchObject({
      summary: {
        count: 0,
        sum: 0,
        quantile_values: [
          { quantile: 0.5, value_special: 'NaN' },
          { quantile: 0.99, value: 2.5 },
        ],
      },
    });
    expect(metricDocument(metricRecord({ value: Number.NaN })).metric).toMatchObject({ value_special: 'NaN' });
    expect(metricDocument(metricRecord({ value: '-Inf' })).metric).toMatchObject({ value_special: '-Inf' });
  });

  it('keep resource keys off metric.* and labels.*', () => {
    const document = metricDocument(metricRecord({ resource: { 'metric.name': 'x', 'labels.team': 'a', 'tributary.agent.id': 'agent-1' } }));
    expect(document.metric).toMatchObject({ name: 'up' });
    expect(document.labels).toEqual({ metric_name: 'x', team: 'a' });
    expect(document.tributary).toEqual({ agent: { id: 'agent-1' } });
  });
});

describe('13.1: keys that name prototype machinery', () => {
  it('13.1: x.__proto__.time stays a label and never reaches Object.prototype; the next document is unaffected', () => {
    const hostile = JSON.parse('{"x.__proto__.time":"2099-01-01T00:00:00Z"}') as Record<string, string>;
    const first = expectPrototypesUntouched(() => logDocument(logRecord({ attributes: hostile })));
    expect(({} as Record<string, unknown>).time).toBeUndefined();
    expect(first.labels).toEqual({ x___proto___time: '2099-01-01T00:00:00Z' });
    expect(first.x).toBeUndefined();
    const second = logDocument(logRecord({ timestamp: '2026-11-24T10:00:00.000Z' }));
    expect(second['@timestamp']).toBe('2026-11-24T10:00:00.000Z');
    expect(Object.keys(second)).toEqual(['@timestamp', 'observed_timestamp', 'message', 'severity_number', 'event']);
  });

  it('13.1: every unsafe segment, in attributes and resource, of logs and metrics, becomes a flat label', () => {
    const keys = ['__proto__', 'constructor', 'prototype', '__proto__.polluted', 'a.constructor.prototype.polluted', 'labels.__proto__', 'host.prototype'];
    const entries = Object.fromEntries(keys.map((key) => [key, key]));
    const log = expectPrototypesUntouched(() => logDocument(logRecord({ attributes: entries, resource: { 'b.__proto__.x': 'r' } })));
    const metric = expectPrototypesUntouched(() => metricDocument(metricRecord({ attributes: entries, resource: { 'b.__proto__.x': 'r' } })));
    for (const document of [log, metric]) {
      const labels = document.labels as Record<string, unknown>;
      expect(Object.getPrototypeOf(labels)).toBeNull();
      expect(Object.keys(labels).sort()).toEqual(
        ['__proto__', 'constructor', 'prototype', '__proto___polluted', 'a_constructor_prototype_polluted', 'host_prototype', 'b___proto___x'].sort(),
      );
      expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('labels.__proto__');
      expect(JSON.parse(JSON.stringify(document))).toMatchObject({
        labels: { b___proto___x: 'r', a_constructor_prototype_polluted: 'a.constructor.prototype.polluted' },
      });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('13.1: a segment that is a name of Object.prototype (toString, hasOwnProperty) is plain data', () => {
    const document = logDocument(logRecord({ attributes: { 'toString.x': 1, 'hasOwnProperty.y': 'z', valueOf: true } }));
    expect(JSON.parse(JSON.stringify(document))).toMatchObject({ toString: { x: 1 }, hasOwnProperty: { y: 'z' }, valueOf: true });
  });

  it('a key deeper than the mapping depth limit goes to labels instead of failing the document', () => {
    const deep = Array.from({ length: MAX_FIELD_DEPTH + 1 }, (_, n) => `s${n}`).join('.');
    const limit = Array.from({ length: MAX_FIELD_DEPTH }, (_, n) => `t${n}`).join('.');
    const document = logDocument(logRecord({ attributes: { [deep]: 1, [limit]: 2 } }));
    expect(document.labels).toEqual({ [deep.replace(/\./g, '_')]: 1 });
    expect(document.t0).toBeDefined();
  });
});
