import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../collector/collector.js';
import { resourceKey } from '../../collector/processors/normalize/normalize-log.js';
import { encodeEvents } from '../../shared/frame/frame-codec.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { MetricRecord } from '../../shared/record/metric-record.js';
import { sampleValue } from '../../shared/telemetry/test-metrics.js';
import { seedRawTopic, startTestCollector } from '../helpers/collector.js';
import { messageCount, readTopic, uniqueName, waitFor } from '../helpers/kafka.js';
import { metricRecordErrors } from '../helpers/schemas.js';

const id = (index: number) => `feed${index.toString(16).padStart(28, '0')}`;
const OBSERVED = '2026-11-23T12:00:00.000Z';
const API = { job: 'api', instance: '10.0.0.5:9100' };
const NODE = { job: 'node', instance: '10.0.0.6:9100' };

/** A raw.metric.v1 event from `target`, as the agent's scrape source frames it. */
function rawMetric(index: number, target: typeof API, fields: Record<string, unknown>) {
  return {
    id: id(index),
    observed_at: OBSERVED,
    host: 'node-1',
    agent_id: 'agent-1',
    source: { type: 'prometheus_scrape', name: 'scrape', ...target },
    ...fields,
    labels: { ...target, ...(fields.labels as Record<string, string> | undefined) },
  };
}

function resourceOf(target: typeof API): Record<string, string> {
  return {
    'deployment.environment': 'test',
    job: target.job,
    instance: target.instance,
    'service.name': target.job,
    'service.instance.id': target.instance,
    'host.name': 'node-1',
    'tributary.agent.id': 'agent-1',
  };
}

describe('collector metric records (real broker)', () => {
  const rawTopic = uniqueName('metrics-raw');
  const metricsTopic = uniqueName('metrics-normalized');
  const logsTopic = uniqueName('metrics-logs');
  const dlqTopic = uniqueName('metrics-dlq');
  const malformed = rawMetric(5, API, { name: 'jobs_done_total', type: 'counter', value: 'lots' });
  let collector: Collector;

  beforeAll(async () => {
    const scrape = encodeEvents('raw.metric.v1', [
      rawMetric(1, API, {
        name: 'http_requests_total',
        type: 'counter',
        help: 'Requests handled.',
        labels: { method: 'GET' },
        value: 1027,
        created: '2026-11-20T08:00:00.000Z',
      }),
      rawMetric(2, API, { name: 'cache_hit_ratio', type: 'gauge', value: 'NaN' }),
      rawMetric(3, API, {
        name: 'http_request_duration_seconds',
        type: 'histogram',
        unit: 'seconds',
        buckets: [
          { le: 0.1, count: 2 },
          { le: 0.5, count: 5 },
          { le: 1, count: 9 },
          { le: '+Inf', count: 10 },
        ],
        count: 10,
        sum: 4.25,
      }),
      rawMetric(4, API, {
        name: 'rpc_duration_seconds',
        type: 'summary',
        quantiles: [
          { quantile: 0.5, value: 0.012 },
          { quantile: 0.99, value: '+Inf' },
        ],
        count: 1200,
        sum: 17.5,
      }),
      malformed,
      rawMetric(6, API, { name: 'build_info', type: 'info', labels: { version: '1.4.2' }, value: 1 }),
    ]);
    const node = encodeEvents('raw.metric.v1', [rawMetric(7, NODE, { name: 'node_load1', type: 'gauge', value: 0.42, time: '2026-11-23T11:59:58.000Z' })]);
    await seedRawTopic(rawTopic, [
      { key: 'api', value: scrape.value, headers: scrape.headers },
      { key: 'node', value: node.value, headers: node.headers },
    ]);
    collector = await startTestCollector(rawTopic, {
      collector: { group_id: uniqueName('metrics-group'), resource: { 'deployment.environment': 'test' } },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic, metrics_topic: metricsTopic, partitions: 3 } },
      dead_letter: { topic: dlqTopic },
    });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('publishes one schema-valid record per series, keyed by target, and dead-letters the malformed event alone', async () => {
    const messages = await readTopic(metricsTopic, 6);
    const records = messages.map((message) => JSON.parse(message.value.toString()) as MetricRecord);
    for (const record of records) expect(metricRecordErrors(record), record.id).toBeUndefined();

    const api = resourceOf(API);
    const common = { schema: 'tributary.metric.v1', timestamp: OBSERVED, observed_timestamp: OBSERVED, resource: api };
    expect([...records].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      {
        ...common,
        id: id(1),
        name: 'http_requests_total',
        description: 'Requests handled.',
        type: 'sum',
        prometheus_type: 'counter',
        is_monotonic: true,
        aggregation_temporality: 'cumulative',
        start_timestamp: '2026-11-20T08:00:00.000Z',
        value: 1027,
        attributes: { method: 'GET' },
      },
      { ...common, id: id(2), name: 'cache_hit_ratio', type: 'gauge', prometheus_type: 'gauge', value: 'NaN', attributes: {} },
      {
        ...common,
        id: id(3),
        name: 'http_request_duration_seconds',
        unit: 'seconds',
        type: 'histogram',
        prometheus_type: 'histogram',
        aggregation_temporality: 'cumulative',
        histogram: { count: 10, sum: 4.25, explicit_bounds: [0.1, 0.5, 1], bucket_counts: [2, 3, 4, 1] },
        attributes: {},
      },
      {
        ...common,
        id: id(4),
        name: 'rpc_duration_seconds',
        type: 'summary',
        prometheus_type: 'summary',
        summary: {
          count: 1200,
          sum: 17.5,
          quantile_values: [
            { quantile: 0.5, value: 0.012 },
            { quantile: 0.99, value: '+Inf' },
          ],
        },
        attributes: {},
      },
      { ...common, id: id(6), name: 'build_info', type: 'gauge', prometheus_type: 'info', value: 1, attributes: { version: '1.4.2' } },
      {
        ...common,
        id: id(7),
        name: 'node_load1',
        type: 'gauge',
        prometheus_type: 'gauge',
        timestamp: '2026-11-23T11:59:58.000Z',
        value: 0.42,
        attributes: {},
        resource: resourceOf(NODE),
      },
    ]);

    // Keyed by the target's resource, not the series: one target's series share a partition, in scrape order.
    const apiMessages = messages.filter((message) => message.key === resourceKey(api));
    expect(apiMessages.map((message) => (JSON.parse(message.value.toString()) as MetricRecord).id)).toEqual([id(1), id(2), id(3), id(4), id(6)]);
    expect(new Set(apiMessages.map((message) => message.partition)).size).toBe(1);
    expect(messages.find((message) => message.key === resourceKey(resourceOf(NODE)))).toBeDefined();

    const [letter] = await readTopic(dlqTopic, 1);
    expect(JSON.parse(letter?.value.toString() ?? '')).toEqual(malformed);
    expect(letter?.headers).toMatchObject({
      'tributary.dlq.error_code': 'FRAME_INVALID',
      'tributary.dlq.reason': `raw metric event ${id(5)} has missing or invalid fields: value`,
      'tributary.dlq.source.topic': rawTopic,
      'tributary.dlq.source.offset': '0',
    });

    const normalizeMetrics = { component_id: 'normalize_metrics' };
    await waitFor('the step counted', async () =>
      (await sampleValue(collector.metrics, 'tributary_component_sent_events_total', normalizeMetrics)) === 6 ? true : undefined,
    );
    expect(await sampleValue(collector.metrics, 'tributary_component_received_events_total', normalizeMetrics)).toBe(7);
    expect(await sampleValue(collector.metrics, 'tributary_component_errors_total', { ...normalizeMetrics, reason: 'decode' })).toBe(1);
    expect(await sampleValue(collector.metrics, 'tributary_component_discarded_events_total', { reason: 'frame_invalid' })).toBe(1);
    // Nothing of the metric frames went to the logs topic.
    expect(await messageCount(logsTopic)).toBe(0);
  });
});

describe('collector with log and metric frames together (real broker)', () => {
  const rawLogsTopic = uniqueName('mixed-raw-logs');
  // Not created before the collector starts: the collector creates its input topics.
  const rawMetricsTopic = uniqueName('mixed-raw-metrics');
  const logsTopic = uniqueName('mixed-logs');
  const metricsTopic = uniqueName('mixed-metrics');
  let collector: Collector;
  let metricsFile: string;

  beforeAll(async () => {
    metricsFile = join(await mkdtemp(join(tmpdir(), 'tributary-mixed-')), 'metrics.ndjson');
    const logs = encodeEvents('raw.log.v1', [
      {
        id: id(100),
        observed_at: OBSERVED,
        body: 'GET /healthz 200',
        host: 'node-1',
        agent_id: 'agent-1',
        source: { type: 'file', name: 'app', path: '/var/log/app.log', file_id: '1:1', offset: 0 },
      },
    ]);
    await seedRawTopic(rawLogsTopic, [{ key: 'node-1:/var/log/app.log', value: logs.value, headers: logs.headers }]);
    collector = await startTestCollector(rawLogsTopic, {
      input: { topics: [rawLogsTopic, rawMetricsTopic] },
      routes: [{ match: { record: 'metrics' }, outputs: ['normalized', 'metrics_file'] }],
      default_outputs: ['normalized'],
      outputs: {
        normalized: { type: 'kafka_topics', logs_topic: logsTopic, metrics_topic: metricsTopic },
        metrics_file: { type: 'file', path: metricsFile },
      },
    });
    const metrics = encodeEvents('raw.metric.v1', [rawMetric(101, API, { name: 'up', type: 'gauge', value: 1 })]);
    await seedRawTopic(rawMetricsTopic, [{ key: 'api', value: metrics.value, headers: metrics.headers }]);
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('publishes each schema on its own topic and routes metric records by match.record', async () => {
    const [log] = await readTopic(logsTopic, 1);
    const [metric] = await readTopic(metricsTopic, 1);
    expect(JSON.parse(log?.value.toString() ?? '')).toMatchObject({
      schema: 'tributary.log.v1',
      id: id(100),
      body: 'GET /healthz 200',
    } satisfies Partial<LogRecord>);
    const metricRecord = JSON.parse(metric?.value.toString() ?? '') as MetricRecord;
    expect(metricRecord).toMatchObject({ schema: 'tributary.metric.v1', id: id(101), name: 'up', type: 'gauge', value: 1 });
    expect(metricRecordErrors(metricRecord)).toBeUndefined();

    const fileLines = await waitFor('the metric record in the file output', async () => {
      const text = await readFile(metricsFile, 'utf8').catch(() => '');
      return text === '' ? undefined : text.trimEnd().split('\n');
    });
    expect(fileLines.map((line) => JSON.parse(line) as unknown)).toEqual([metricRecord]);
    expect(await messageCount(logsTopic)).toBe(1);
    expect(await messageCount(metricsTopic)).toBe(1);
  });
});
