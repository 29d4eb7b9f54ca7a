import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOpenSearch, type LocalOpenSearch } from '../../deploy/dev/opensearch/local-opensearch.js';
import { elasticsearchOutputSchema } from '../../collector/outputs/elasticsearch/config.js';
import { ElasticsearchSink } from '../../collector/outputs/elasticsearch/elasticsearch-sink.js';
import { templateName } from '../../collector/outputs/elasticsearch/templates.js';
import { sampleValue, testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { logRecord, metricRecord } from '../helpers/records.js';
import { capturingLogger, outgoing } from '../helpers/sinks.js';

/**
 * The Elasticsearch sink against a real Elasticsearch-API server (OpenSearch
 * 2.19 from Maven Central jars): templates install, documents land in data
 * streams and dated indices with the mapped fields, a replay indexes nothing
 * twice, a mapping violation comes back in `rejected` while the rest of its
 * bulk is indexed, and a write survives the server dying and coming back.
 */

const id = (prefix: string, n: number): string => `${prefix}${n.toString(16).padStart(32 - prefix.length, '0')}`;

async function call(server: LocalOpenSearch, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { method, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function count(server: LocalOpenSearch, target: string): Promise<number> {
  await call(server, 'POST', `/${target}/_refresh`);
  const reply = await call(server, 'GET', `/${target}/_count`);
  expect(reply.status).toBe(200);
  return (reply.body as { count: number }).count;
}

function createSink(server: LocalOpenSearch, config: Record<string, unknown>) {
  const { families, metrics } = testComponentMetrics('sink');
  const { logger, lines } = capturingLogger('info');
  const parsed = elasticsearchOutputSchema.parse({
    type: 'elasticsearch',
    endpoints: [server.url],
    retry: { initial_backoff: '200ms', max_backoff: '2s' },
    ...config,
  });
  return { sink: new ElasticsearchSink('it', parsed, metrics, logger), families, logs: lines };
}

describe('ElasticsearchSink against OpenSearch', () => {
  let server: LocalOpenSearch;
  const sinks: ElasticsearchSink[] = [];

  beforeAll(async () => {
    server = await startLocalOpenSearch();
  }, 600_000);

  afterAll(async () => {
    for (const sink of sinks) await sink.stop();
    await server.stop();
  });

  it('installs its templates, indexes logs and metrics into data streams with mapped fields, and a replay changes no count', async () => {
    const { sink, families } = createSink(server, { data_stream: { dataset: '{resource.service.name}', namespace: 'it' } });
    sinks.push(sink);
    await sink.start();
    const component = await call(server, 'GET', '/_component_template/tributary-logs-mappings');
    expect(component.status).toBe(200);
    const indexTemplate = await call(server, 'GET', `/_index_template/${templateName('logs-*-it', ['logs'], 'data_stream')}`);
    expect(JSON.stringify(indexTemplate.body)).toContain('"index_patterns":["logs-*-it"]');

    const records = [
      ...Array.from({ length: 1_200 }, (_, n) =>
        outgoing(
          logRecord({
            id: id('a', n),
            body: `request ${n} served`,
            severity_text: n % 10 === 0 ? 'ERROR' : 'INFO',
            severity_number: n % 10 === 0 ? 17 : 9,
            attributes: { 'log.file.path': '/var/log/web.log', 'http.response.status_code': 200 + (n % 3), duration: n / 7 },
            resource: { 'service.name': 'Web Shop', 'host.name': 'web-1' },
          }),
        ),
      ),
      ...Array.from({ length: 60 }, (_, n) =>
        outgoing(
          metricRecord({
            id: id('b', n),
            name: 'node_load1',
            value: n === 0 ? 'NaN' : n / 10,
            attributes: { cpu: String(n % 4) },
            resource: { 'service.name': 'node', job: 'node', instance: 'web-1:9100', 'host.name': 'web-1' },
          }),
        ),
      ),
    ];
    expect(await sink.write(records)).toEqual({ rejected: [] });
    expect(await count(server, 'logs-web_shop-it')).toBe(1_200);
    expect(await count(server, 'metrics-node-it')).toBe(60);

    const search = await call(server, 'GET', '/logs-web_shop-it/_search?q=message:%22request%2042%20served%22&size=1');
    const hit = (search.body as { hits: { hits: Array<{ _id: string; _index: string; _source: Record<string, unknown> }> } }).hits.hits[0];
    expect(hit?._id).toBe(id('a', 42));
    expect(hit?._index).toMatch(/^\.ds-logs-web_shop-it-/);
    expect(hit?._source).toMatchObject({
      message: 'request 42 served',
      log: { level: 'INFO', file: { path: '/var/log/web.log' } },
      host: { name: 'web-1' },
      service: { name: 'Web Shop' },
      event: { id: id('a', 42) },
      data_stream: { type: 'logs', dataset: 'web_shop', namespace: 'it' },
    });
    // The fields a user filters on are keywords, the message is text, numbers are doubles.
    const byTerm = await call(server, 'GET', '/logs-web_shop-it/_count?q=host.name:web-1%20AND%20log.level:ERROR');
    expect((byTerm.body as { count: number }).count).toBe(120);
    const mapping = JSON.stringify((await call(server, 'GET', '/logs-web_shop-it/_mapping')).body);
    expect(mapping).toContain('"message":{"type":"text"}');
    expect(mapping).toContain('"status_code":{"type":"double"}');
    const nan = await call(server, 'GET', '/metrics-node-it/_count?q=metric.value_special:NaN');
    expect((nan.body as { count: number }).count).toBe(1);

    // A replay (a collector restarted before committing) creates nothing new: every item is a 409, counted as written.
    expect(await sink.write(records)).toEqual({ rejected: [] });
    expect(await count(server, 'logs-web_shop-it')).toBe(1_200);
    expect(await count(server, 'metrics-node-it')).toBe(60);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(2 * records.length);
  }, 180_000);

  it('returns a mapping violation in rejected and indexes the rest of its bulk', async () => {
    const { sink, families } = createSink(server, { data_stream: { dataset: 'violations', namespace: 'it' } });
    sinks.push(sink);
    await sink.start();
    // The first document maps `amount` as a number; "many" cannot be indexed into it.
    const records = [
      outgoing(logRecord({ id: id('c', 1), attributes: { amount: 5 } })),
      outgoing(logRecord({ id: id('c', 2), attributes: { amount: 'many' } })),
      outgoing(logRecord({ id: id('c', 3), attributes: { amount: 7 } })),
    ];
    const result = await sink.write(records);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.index).toBe(1);
    expect(result.rejected[0]?.reason).toMatch(/^400 (mapper_parsing_exception|document_parsing_exception): failed to parse field \[amount\]/);
    expect(await count(server, 'logs-violations-it')).toBe(2);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sink_rejected' })).toBe(1);
  }, 120_000);

  it('writes dated indices in index mode', async () => {
    const { sink } = createSink(server, { mode: 'index', index: { logs: 'it-logs-%Y.%m.%d', metrics: 'it-metrics-%Y.%m' } });
    sinks.push(sink);
    await sink.start();
    await sink.write([
      outgoing(logRecord({ id: id('d', 1), timestamp: '2026-11-23T23:30:00Z' })),
      outgoing(logRecord({ id: id('d', 2), timestamp: '2026-11-24T00:30:00+02:00' })),
      outgoing(metricRecord({ id: id('d', 3), timestamp: '2026-11-24T10:00:00Z' })),
    ]);
    expect(await count(server, 'it-logs-2026.11.23')).toBe(2);
    expect(await count(server, 'it-metrics-2026.11')).toBe(1);
    const settings = JSON.stringify((await call(server, 'GET', '/it-logs-2026.11.23/_mapping')).body);
    expect(settings).toContain('"severity_number":{"type":"byte"}');
  }, 120_000);

  it('13.1: a record key x.__proto__.time is indexed as a label, Object.prototype stays clean, the next record keeps its own index', async () => {
    const { sink } = createSink(server, { mode: 'index', index: { logs: 'it-proto-%Y.%m.%d', metrics: 'it-proto-metrics-%Y' } });
    sinks.push(sink);
    await sink.start();
    const hostile = JSON.parse('{"x.__proto__.time":"2099-01-01T00:00:00Z"}') as Record<string, string>;
    expect(
      await sink.write([
        outgoing(logRecord({ id: id('p', 1), timestamp: '2026-11-23T10:00:00Z', attributes: hostile })),
        outgoing(logRecord({ id: id('p', 2), timestamp: '2026-11-24T10:00:00Z' })),
      ]),
    ).toEqual({ rejected: [] });
    expect(Object.prototype).not.toHaveProperty('time');
    expect(await count(server, 'it-proto-2026.11.23')).toBe(1);
    expect(await count(server, 'it-proto-2026.11.24')).toBe(1);
    expect((await call(server, 'GET', '/it-proto-2099.01.01/_count')).status).toBe(404);
    const stored = (await call(server, 'GET', `/it-proto-2026.11.23/_doc/${id('p', 1)}`)).body as { _source: Record<string, unknown> };
    expect(stored._source.labels).toEqual({ x___proto___time: '2099-01-01T00:00:00Z' });
  }, 120_000);

  it('keeps retrying while the server is down and finishes the write when it is back', async () => {
    const { sink, families, logs } = createSink(server, { data_stream: { dataset: 'outage', namespace: 'it' }, request_timeout: '5s' });
    sinks.push(sink);
    await sink.start();
    await server.kill();
    const records = Array.from({ length: 300 }, (_, n) => outgoing(logRecord({ id: id('e', n), body: `outage ${n}` })));
    let settled = false;
    const writing = sink.write(records).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(settled).toBe(false);
    expect(sink.ready()).toBe(false);
    await server.restart();
    expect(await writing).toEqual({ rejected: [] });
    expect(sink.ready()).toBe(true);
    expect(await count(server, 'logs-outage-it')).toBe(300);
    expect(await sampleValue(families, 'tributary_component_retried_events_total')).toBeGreaterThanOrEqual(300);
    expect(logs.join('')).toContain('retrying exactly those records');
  }, 240_000);
});
