import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import type { OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { capturingLogger, outgoing } from '../../../test/helpers/sinks.js';
import { freePort } from '../../../shared/test-support/ports.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { elasticsearchOutputSchema } from './config.js';
import { ElasticsearchSink, type ElasticsearchSinkOptions } from './elasticsearch-sink.js';
import { FakeElasticsearch, parseBulkBody, type BulkAction } from './fake-elasticsearch.js';
import { templateName } from './templates.js';
import { gzipSync } from 'node:zlib';
import { MAX_RESPONSE_BYTES } from '../../../shared/http/http-transport.js';
import { makeTestCertificates } from '../../../shared/test-support/tls-certificates.js';

const id = (n: number): string => n.toString(16).padStart(32, '0');
const logs = (count: number, overrides: Partial<LogRecord> = {}): OutgoingRecord[] =>
  Array.from({ length: count }, (_, n) => outgoing(logRecord({ id: id(n), body: `line ${n}`, ...overrides })));

let servers: FakeElasticsearch[] = [];
let dirs: string[] = [];

async function fakeServer(options?: Parameters<typeof FakeElasticsearch.start>[0]): Promise<FakeElasticsearch> {
  const server = await FakeElasticsearch.start(options);
  servers.push(server);
  return server;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-sink-'));
  dirs.push(dir);
  return dir;
}

interface Harness {
  sink: ElasticsearchSink;
  families: ReturnType<typeof testComponentMetrics>['families'];
  /** Backoff delays the sink asked for (the injected sleep returns at once). */
  delays: number[];
  /** Every log line the sink wrote, as JSON text. */
  logText: () => string;
  logLines: () => Array<Record<string, unknown>>;
}

/**
 * A sink against `endpoints`, started. By default templates are off, backoff is
 * recorded but not waited for (`sleep` resolves at once) and jitter is off
 * (`random` = 1, so a delay is the backoff ceiling).
 */
async function startSink(endpoints: string[], config: Record<string, unknown> = {}, options: ElasticsearchSinkOptions = {}): Promise<Harness> {
  const { logger, lines } = capturingLogger('trace');
  const { families, metrics } = testComponentMetrics('sink');
  const delays: number[] = [];
  const parsed = elasticsearchOutputSchema.parse({
    type: 'elasticsearch',
    endpoints,
    install_templates: false,
    retry: { initial_backoff: 100, max_backoff: 1_000 },
    ...config,
  });
  const sink = new ElasticsearchSink('es', parsed, metrics, logger, {
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    random: () => 1,
    ...options,
  });
  await sink.start();
  stoppers.push(() => sink.stop());
  return {
    sink,
    families,
    delays,
    logText: () => lines.join(''),
    logLines: () =>
      lines
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

let stoppers: Array<() => Promise<void>> = [];

beforeEach(() => {
  servers = [];
  dirs = [];
  stoppers = [];
});

afterEach(async () => {
  for (const stop of stoppers) await stop();
  for (const server of servers) await server.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const bulkIds = (bulk: readonly BulkAction[]): string[] => bulk.map((action) => action.id);

describe('ElasticsearchSink: bulk requests', () => {
  it('splits a write into bulk requests by count', async () => {
    const server = await fakeServer();
    const { sink, families } = await startSink([server.url], { batch: { max_events: 3 } });
    expect(await sink.write(logs(10))).toEqual({ rejected: [] });
    expect(server.bulks().map((bulk) => bulk.length)).toEqual([3, 3, 3, 1]);
    expect(server.store.size).toBe(10);
    expect(await sampleValue(families, 'tributary_component_received_events_total')).toBe(10);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(10);
    expect(await sampleValue(families, 'tributary_component_sent_batches_total')).toBe(4);
    expect(await sampleValue(families, 'tributary_component_queued_events')).toBe(0);
  });

  it('splits a write into bulk requests by bytes, none over max_bytes', async () => {
    const server = await fakeServer();
    const { sink } = await startSink([server.url], { batch: { max_bytes: '2KiB' } });
    await sink.write(logs(40, { body: 'x'.repeat(200) }));
    const sizes = server.requests.filter((request) => request.path === '/_bulk').map((request) => Buffer.byteLength(request.body));
    expect(sizes.length).toBeGreaterThan(4);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(2048);
    expect(server.bulks().flat()).toHaveLength(40);
  });

  it('sends gzip NDJSON of create actions with the event ids, ending in a newline', async () => {
    const server = await fakeServer();
    const { sink, families } = await startSink([server.url]);
    await sink.write(logs(3));
    const request = server.requests.find((entry) => entry.path === '/_bulk');
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(request?.headers['content-type']).toBe('application/x-ndjson');
    expect(request?.query.get('filter_path')).toBe('errors,items.*.status,items.*.error');
    expect(request?.body.endsWith('\n')).toBe(true);
    const lines = request?.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines?.filter((_, n) => n % 2 === 0)).toEqual([0, 1, 2].map((n) => ({ create: { _index: 'logs-generic-default', _id: id(n) } })));
    expect(lines?.[1]).toMatchObject({ message: 'line 0', event: { id: id(0) }, data_stream: { type: 'logs', dataset: 'generic', namespace: 'default' } });
    expect(await sampleValue(families, 'tributary_component_sent_bytes_total')).toBe(request?.wireBytes);
    expect(await sampleValue(families, 'tributary_component_compression_ratio')).toBeGreaterThan(1);
  });

  it('sends plain NDJSON with compression: none, and the ingest pipeline as a parameter', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.path.startsWith('/_ingest/pipeline/') ? { body: { geoip: {} } } : undefined);
    const { sink } = await startSink([server.url], { compression: 'none', pipeline: 'geoip' });
    await sink.write(logs(1));
    const request = server.requests.find((entry) => entry.path === '/_bulk');
    expect(request?.headers['content-encoding']).toBeUndefined();
    expect(request?.wireBytes).toBe(Buffer.byteLength(request?.body ?? ''));
    expect(request?.query.get('pipeline')).toBe('geoip');
  });

  it('keeps at most max_concurrent_requests bulk requests in flight, across writes', async () => {
    const server = await fakeServer();
    server.respond = (request, fake) => (request.path === '/_bulk' ? { delayMs: 30, body: fake.bulkReply(parseBulkBody(request.body)) } : undefined);
    const { sink } = await startSink([server.url], { batch: { max_events: 1 }, max_concurrent_requests: 2 });
    await Promise.all([
      sink.write(logs(4)),
      sink.write(logs(4, { attributes: { other: 'write' } }).map((record, n) => outgoing({ ...record.record, id: id(100 + n) }))),
    ]);
    expect(server.maxInFlight).toBe(2);
    expect(server.store.size).toBe(8);
  });
});

describe('ElasticsearchSink: idempotency and item-level results', () => {
  it('counts 409 items (already indexed by an earlier attempt or a replay) as written', async () => {
    const server = await fakeServer();
    const { sink, families } = await startSink([server.url]);
    await sink.write(logs(5));
    expect(await sink.write(logs(5))).toEqual({ rejected: [] });
    expect(server.store.size).toBe(5);
    expect(server.bulks()).toHaveLength(2);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(10);
  });

  it('re-sends exactly the item that got 429 and reports the mapping error as rejected', async () => {
    const server = await fakeServer();
    let first = true;
    server.respond = (request, fake) => {
      if (request.path !== '/_bulk') return undefined;
      const actions = parseBulkBody(request.body);
      if (!first) return { body: fake.bulkReply(actions) };
      first = false;
      return {
        body: fake.bulkReply(actions, (_action, position) => {
          if (position === 1) return { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (queue capacity 200)' } };
          if (position === 2) {
            return {
              status: 400,
              error: {
                type: 'mapper_parsing_exception',
                reason: 'failed to parse field [http.response.status_code] of type [double]',
                caused_by: { type: 'number_format_exception', reason: 'For input string: "abc"' },
              },
            };
          }
          return undefined;
        }),
      };
    };
    const { sink, families, delays, logLines } = await startSink([server.url]);
    const result = await sink.write(logs(5));
    expect(result.rejected).toEqual([
      {
        index: 2,
        reason:
          '400 mapper_parsing_exception: failed to parse field [http.response.status_code] of type [double] (caused by number_format_exception: For input string: "abc")',
      },
    ]);
    const bulks = server.bulks();
    expect(bulks.map(bulkIds)).toEqual([[id(0), id(1), id(2), id(3), id(4)], [id(1)]]);
    expect([...server.store.keys()].sort()).toEqual([0, 1, 3, 4].map((n) => `logs-generic-default/${id(n)}`));
    expect(delays).toEqual([100]);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(4);
    expect(await sampleValue(families, 'tributary_component_retried_events_total')).toBe(1);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sink_rejected' })).toBe(1);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_rejected' })).toBe(1);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_unavailable' })).toBe(1);
    const warn = logLines().find((line) => line.level === 40);
    expect(warn).toMatchObject({ retrying: 1, indexed: 3, rejected: 1, attempt: 1 });
    expect(logLines().find((line) => line.level === 50)).toMatchObject({ records: 1, msg: expect.stringContaining('dead-letter') as unknown });
  });

  it('gives up on a record after retry.max_attempts and reports it rejected with the last error', async () => {
    const server = await fakeServer();
    server.respond = (request, fake) =>
      request.path === '/_bulk'
        ? {
            body: fake.bulkReply(parseBulkBody(request.body), (action) =>
              action.id === id(0) ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } : undefined,
            ),
          }
        : undefined;
    const { sink } = await startSink([server.url], { retry: { max_attempts: 3 } });
    const result = await sink.write(logs(2));
    expect(result.rejected).toEqual([{ index: 0, reason: 'gave up after 3 attempts: 503 unavailable_shards_exception: primary shard is not active' }]);
    expect(server.bulks().map(bulkIds)).toEqual([[id(0), id(1)], [id(0)], [id(0)]]);
  });

  it('retries a whole response it cannot match to the request', async () => {
    const server = await fakeServer();
    let calls = 0;
    server.respond = (request) => (request.path === '/_bulk' && calls++ === 0 ? { body: '<html>gateway</html>' } : undefined);
    const { sink } = await startSink([server.url]);
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    expect(server.bulks()).toHaveLength(2);
  });
});

describe('ElasticsearchSink: whole-request failures', () => {
  it('retries a 503 after the server Retry-After', async () => {
    const server = await fakeServer();
    let calls = 0;
    server.respond = (request) =>
      request.path === '/_bulk' && calls++ === 0 ? { status: 503, headers: { 'retry-after': '7' }, body: 'overloaded' } : undefined;
    const { sink, delays, families } = await startSink([server.url]);
    expect(await sink.write(logs(3))).toEqual({ rejected: [] });
    expect(delays).toEqual([7_000]);
    expect(server.bulks().map((bulk) => bulk.length)).toEqual([3, 3]);
    expect(await sampleValue(families, 'tributary_component_retried_events_total')).toBe(3);
  });

  it('retries a 429 with exponential backoff when the server says nothing', async () => {
    const server = await fakeServer();
    let calls = 0;
    server.respond = (request) =>
      request.path === '/_bulk' && calls++ < 5
        ? { status: 429, body: { error: { type: 'es_rejected_execution_exception', reason: 'busy' }, status: 429 } }
        : undefined;
    const { sink, delays } = await startSink([server.url]);
    await sink.write(logs(1));
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
  });

  it('retries after a connection reset', async () => {
    const server = await fakeServer();
    let calls = 0;
    server.respond = (request) => (request.path === '/_bulk' && calls++ === 0 ? 'reset' : undefined);
    const { sink, families } = await startSink([server.url]);
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    expect(server.store.size).toBe(2);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_unavailable' })).toBe(1);
  });

  it('13.11: a gzip-bomb answer is read no further than the response cap and the bulk is retried', async () => {
    const server = await fakeServer();
    // 1 GiB of zeros as 1,024 gzip members of 1 MiB each: about 1 MB on the wire.
    const member = gzipSync(Buffer.alloc(1 << 20));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    let calls = 0;
    server.respond = (request) => (request.path === '/_bulk' && calls++ === 0 ? { headers: { 'content-encoding': 'gzip' }, body: bomb } : undefined);
    const { sink, families, logText } = await startSink([server.url]);
    const rssBefore = process.memoryUsage().rss;
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    // The old transport inflated the whole answer (2.1 GB of RSS for a 1 MB answer); now at most the 64 MiB cap.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 << 20);
    expect(server.store.size).toBe(2);
    expect(logText()).toContain(`response body larger than the ${MAX_RESPONSE_BYTES}-byte cap (decoded)`);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_unavailable' })).toBe(1);
  });

  it('13.11: an endless answer is cut at the response cap and the bulk is retried', async () => {
    const server = await fakeServer();
    let calls = 0;
    const chunk = Buffer.alloc(1 << 20, ' ');
    server.respond = (request) =>
      request.path === '/_bulk' && calls++ === 0
        ? {
            stream: (response) => {
              const more = (): void => {
                while (!response.destroyed && response.write(chunk));
                if (!response.destroyed) response.once('drain', more);
              };
              more();
            },
          }
        : undefined;
    const { sink, logText } = await startSink([server.url], { request_timeout: '60s' });
    expect(await sink.write(logs(1))).toEqual({ rejected: [] });
    expect(server.store.size).toBe(1);
    expect(logText()).toContain(`response body larger than the ${MAX_RESPONSE_BYTES}-byte cap (received)`);
  });

  it('retries a request that does not answer within request_timeout', async () => {
    const server = await fakeServer();
    let calls = 0;
    server.respond = (request, fake) =>
      request.path === '/_bulk' && calls++ === 0 ? { delayMs: 5_000, body: fake.bulkReply(parseBulkBody(request.body)) } : undefined;
    const { sink, logText } = await startSink([server.url], { request_timeout: '200ms' });
    const started = Date.now();
    expect(await sink.write(logs(1))).toEqual({ rejected: [] });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(logText()).toContain('no response within 200 ms');
  });

  it('splits a request the server finds too large (413), and rejects a single document it will never take', async () => {
    const server = await fakeServer();
    server.respond = (request) => {
      if (request.path !== '/_bulk') return undefined;
      return Buffer.byteLength(request.body) > 1500 ? { status: 413, body: '' } : undefined;
    };
    const { sink, delays } = await startSink([server.url]);
    const records = [...logs(6, { body: 'x'.repeat(200) }), outgoing(logRecord({ id: id(99), body: 'y'.repeat(2000) }))];
    const result = await sink.write(records);
    expect(result.rejected).toEqual([{ index: 6, reason: expect.stringContaining('HTTP 413') as unknown }]);
    expect(server.store.size).toBe(6);
    expect(delays).toEqual([]);
    // Later writes start from the lowered size instead of hitting the limit again.
    const before = server.requests.length;
    await sink.write(logs(6, { body: 'z'.repeat(200) }).map((record, n) => outgoing({ ...record.record, id: id(200 + n) })));
    expect(server.requests.slice(before).every((request) => Buffer.byteLength(request.body) <= 1500)).toBe(true);
  });

  it('reports the documents of a request refused with another 4xx as rejected', async () => {
    const server = await fakeServer();
    server.respond = (request) =>
      request.path === '/_bulk'
        ? { status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'request body is required' }, status: 400 } }
        : undefined;
    const { sink } = await startSink([server.url]);
    const result = await sink.write(logs(2));
    expect(result.rejected.map((entry) => entry.index)).toEqual([0, 1]);
    expect(result.rejected[0]?.reason).toContain('400 illegal_argument_exception: request body is required');
  });

  it('fails over to the next endpoint at once and goes round-robin over healthy ones', async () => {
    const [a, b] = [await fakeServer(), await fakeServer()];
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { sink, delays } = await startSink([dead, a.url, b.url], { batch: { max_events: 1 } });
    await sink.write(logs(4));
    expect(delays).toEqual([]);
    const served = (server: FakeElasticsearch) => server.bulks().length;
    expect(served(a) + served(b)).toBe(4);
    expect(served(a)).toBeGreaterThan(0);
    expect(served(b)).toBeGreaterThan(0);
  });

  it('moves on to another endpoint after a 5xx', async () => {
    const [sick, healthy] = [await fakeServer(), await fakeServer()];
    sick.respond = (request) => (request.path === '/_bulk' ? { status: 502, body: 'bad gateway' } : undefined);
    const { sink, delays } = await startSink([sick.url, healthy.url]);
    await sink.write(logs(3));
    expect(healthy.store.size).toBe(3);
    expect(delays).toEqual([]);
  });
});

describe('ElasticsearchSink: index layout', () => {
  it('routes logs and metrics to their data streams, with the dataset from the record, sanitized', async () => {
    const server = await fakeServer();
    const { sink } = await startSink([server.url], { data_stream: { dataset: '{resource.service.name}', namespace: 'prod' } });
    await sink.write([
      outgoing(logRecord({ id: id(1), resource: { 'service.name': 'Check Out/API#2' } })),
      outgoing(metricRecord({ id: id(2), resource: { 'service.name': 'node-exporter' } })),
      outgoing(logRecord({ id: id(3) })),
    ]);
    const [bulk] = server.bulks();
    expect(bulk?.map((action) => [action.op, action.index])).toEqual([
      ['create', 'logs-check_out_api_2-prod'],
      ['create', 'metrics-node_exporter-prod'],
      ['create', 'logs-generic-prod'],
    ]);
    expect(bulk?.[1]?.document).toMatchObject({
      data_stream: { type: 'metrics', dataset: 'node_exporter', namespace: 'prod' },
      metric: { name: 'up', value: 1 },
    });
  });

  it('writes to dated indices by the record timestamp in UTC in index mode', async () => {
    const server = await fakeServer();
    const { sink } = await startSink([server.url], { mode: 'index' });
    await sink.write([
      outgoing(logRecord({ id: id(1), timestamp: '2026-11-24T01:00:00+02:00' })),
      outgoing(metricRecord({ id: id(2), timestamp: '2026-01-02T00:00:00Z' })),
    ]);
    expect(server.bulks()[0]?.map((action) => action.index)).toEqual(['tributary-logs-2026.11.23', 'tributary-metrics-2026.01.02']);
    expect(server.bulks()[0]?.[0]?.document.data_stream).toBeUndefined();
  });

  it('13.1: a record key x.__proto__.time never reaches Object.prototype, and the next record keeps its own timestamp and index', async () => {
    const server = await fakeServer();
    const { sink } = await startSink([server.url], { mode: 'index' });
    // The observed line, as the JSON parser hands its keys on (own properties, dots kept).
    const hostile = JSON.parse('{"x.__proto__.time":"2099-01-01T00:00:00Z"}') as Record<string, string>;
    // The write is asynchronous: compare Object.prototype's own keys around the whole of it.
    const keysBefore = Reflect.ownKeys(Object.prototype);
    await sink.write([
      outgoing(logRecord({ id: id(1), timestamp: '2026-11-23T10:00:00Z', attributes: hostile })),
      outgoing(logRecord({ id: id(2), timestamp: '2026-11-24T10:00:00Z' })),
    ]);
    expect(Reflect.ownKeys(Object.prototype)).toEqual(keysBefore);
    expect(Object.prototype).not.toHaveProperty('time');
    expect(({} as Record<string, unknown>).time).toBeUndefined();
    const [first, second] = server.bulks()[0] ?? [];
    expect(first?.index).toBe('tributary-logs-2026.11.23');
    expect(first?.document.labels).toEqual({ x___proto___time: '2099-01-01T00:00:00Z' });
    expect(second?.index).toBe('tributary-logs-2026.11.24');
    expect(second?.document['@timestamp']).toBe('2026-11-24T10:00:00Z');
    expect(second?.document.labels).toBeUndefined();
  });

  it('installs the component and index templates at start, then checks the pipeline', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.path === '/_ingest/pipeline/enrich' ? { body: { enrich: {} } } : undefined);
    await startSink([server.url], { install_templates: true, pipeline: 'enrich' });
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /',
      'PUT /_component_template/tributary-logs-mappings',
      'PUT /_component_template/tributary-metrics-mappings',
      `PUT /_index_template/${templateName('logs-generic-default', ['logs'], 'data_stream')}`,
      `PUT /_index_template/${templateName('metrics-generic-default', ['metrics'], 'data_stream')}`,
      'GET /_ingest/pipeline/enrich',
    ]);
    const indexTemplate = JSON.parse(server.requests[3]?.body ?? '{}') as Record<string, unknown>;
    expect(indexTemplate).toMatchObject({ index_patterns: ['logs-generic-default'], data_stream: {}, composed_of: ['tributary-logs-mappings'], priority: 170 });
    expect(server.requests[1]?.headers['content-type']).toBe('application/json');
    expect(server.requests[1]?.headers['content-encoding']).toBeUndefined();
  });

  it('fails start-up when a template is refused or the pipeline does not exist', async () => {
    const server = await fakeServer();
    server.respond = (request) =>
      request.method === 'PUT'
        ? { status: 400, body: { error: { type: 'mapper_parsing_exception', reason: 'unknown parameter [x]' }, status: 400 } }
        : undefined;
    await expect(startSink([server.url], { install_templates: true })).rejects.toThrow(/refused: 400 mapper_parsing_exception: unknown parameter \[x\]/);
    const other = await fakeServer();
    await expect(startSink([other.url], { pipeline: 'missing' })).rejects.toThrow(/ingest pipeline "missing" does not exist/);
  });
});

describe('ElasticsearchSink: credentials and TLS', () => {
  it('blocks and retries loudly on 401 without rejecting anything, picks up a rotated password file, and never logs secrets', async () => {
    const dir = await tempDir();
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'old-secret\n');
    const server = await fakeServer();
    const good = `Basic ${Buffer.from('tributary:new-secret').toString('base64')}`;
    let refused = 0;
    server.respond = (request) => {
      if (request.path !== '/_bulk' || request.headers.authorization === good) return undefined;
      // The operator fixes the secret while the sink keeps retrying; the sink re-reads it after each 401.
      if (++refused === 3) writeFileSync(passwordFile, 'new-secret\n');
      return { status: 401, body: { error: { type: 'security_exception', reason: 'unable to authenticate user [tributary]' }, status: 401 } };
    };
    const readiness: boolean[] = [];
    const current: { sink?: ElasticsearchSink } = {};
    const { sink, families, logText, logLines } = await startSink(
      [server.url],
      { auth: { basic: { username: 'tributary', password_file: passwordFile } } },
      {
        sleep: () => {
          readiness.push(current.sink?.ready() ?? true);
          return Promise.resolve();
        },
      },
    );
    current.sink = sink;
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    expect(readiness).toEqual([false, false, false]);
    expect(sink.ready()).toBe(true);
    expect(server.store.size).toBe(2);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total')).toBe(0);
    const errors = logLines().filter((line) => line.level === 50);
    expect(errors).toHaveLength(3);
    expect(String(errors[0]?.reason)).toContain(
      '401 security_exception: unable to authenticate user [tributary] (the server refused the credentials: check auth.basic)',
    );
    for (const secret of ['old-secret', 'new-secret', Buffer.from('tributary:old-secret').toString('base64'), good]) expect(logText()).not.toContain(secret);
  });

  it('is not ready while every item of a 200 _bulk is refused (a role that may call _bulk but not write the index), and ready once they land', async () => {
    const server = await fakeServer();
    let refused = 0;
    server.respond = (request) => {
      if (request.path !== '/_bulk' || ++refused > 2) return undefined;
      const item = {
        create: { status: 403, error: { type: 'security_exception', reason: 'no permissions for [indices:data/write/bulk[s]] and User [name=r]' } },
      };
      return { status: 200, body: { errors: true, items: [item, item] } };
    };
    const readiness: boolean[] = [];
    const current: { sink?: ElasticsearchSink } = {};
    const { sink, logLines } = await startSink(
      [server.url],
      {},
      {
        sleep: () => {
          readiness.push(current.sink?.ready() ?? true);
          return Promise.resolve();
        },
      },
    );
    current.sink = sink;
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    expect(readiness).toEqual([false, false]);
    expect(sink.ready()).toBe(true);
    expect(server.store.size).toBe(2);
    const errors = logLines().filter((line) => line.level === 50);
    expect(errors.map((line) => line.reason)).toEqual(
      Array(2).fill('403 security_exception: no permissions for [indices:data/write/bulk[s]] and User [name=r]'),
    );
  });

  it('sends an API key, and keeps URL credentials out of logs and errors', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.path === '/_bulk' && server.bulks().length === 1 ? { status: 401, body: 'no' } : undefined);
    const { sink, logText: keyLog } = await startSink([server.url], { auth: { api_key: 'key-id:key-secret' } });
    await sink.write(logs(1));
    const encoded = Buffer.from('key-id:key-secret').toString('base64');
    expect(server.requests.at(-1)?.headers.authorization).toBe(`ApiKey ${encoded}`);
    expect(keyLog()).toContain('HTTP 401 no (the server refused the credentials: check auth.api_key)');
    expect(keyLog()).not.toMatch(new RegExp(`key-secret|${encoded}`));

    const port = await freePort();
    const up = await fakeServer();
    const withUserinfo = up.url.replace('http://', 'http://elastic:pa%24%24word@');
    const { sink: second, logText } = await startSink([`http://elastic:pa%24%24word@127.0.0.1:${port}`, withUserinfo]);
    await second.write(logs(1));
    expect(up.requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pa$$word').toString('base64')}`);
    expect(logText()).toContain(`http://127.0.0.1:${port}`);
    expect(logText()).not.toMatch(/pa%24%24word|pa\$\$word|elastic:/);
  });

  it('fails start-up naming a secret file it cannot read, never its content', async () => {
    const server = await fakeServer();
    await expect(startSink([server.url], { auth: { api_key_file: '/nonexistent/es-key' } })).rejects.toMatchObject({
      code: 'CONFIG_UNREADABLE',
      message: expect.stringContaining('cannot read auth.api_key_file /nonexistent/es-key') as unknown,
    });
    expect(server.requests).toEqual([]);
  });

  it('verifies the server with the configured CA and server name', async () => {
    const dir = await tempDir();
    const certificates = await makeTestCertificates(dir, 'es.test');
    const server = await fakeServer({ tls: { key: certificates.key, cert: certificates.cert } });
    const { sink } = await startSink([server.url], { tls: { ca_file: certificates.caFile, server_name: 'es.test' } });
    expect(await sink.write(logs(1))).toEqual({ rejected: [] });
    expect(server.store.size).toBe(1);

    // Without the CA the server is unusable: start-up keeps retrying (and says why) until stopped.
    const { metrics } = testComponentMetrics('sink');
    const { logger, lines } = capturingLogger('warn');
    const untrusted = new ElasticsearchSink(
      'es',
      elasticsearchOutputSchema.parse({ type: 'elasticsearch', endpoints: [server.url], retry: { initial_backoff: 10, max_backoff: 10 } }),
      metrics,
      logger,
    );
    const starting = untrusted.start();
    await waitFor('lines.length >= 2', () => lines.length >= 2);
    await untrusted.stop();
    await expect(starting).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(lines.join('')).toMatch(/TLS failed: the server's certificate is not signed by a CA the client trusts: check outputs\.es\.tls\.ca_file \(/);
  });
});

describe('ElasticsearchSink: shutdown', () => {
  it('rejects promptly with a retriable SHUTDOWN error when the signal aborts during backoff', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.path === '/_bulk' ? { status: 503, body: 'down' } : undefined);
    const { sink } = await startSink([server.url], { retry: { initial_backoff: '10s', max_backoff: '60s' } }, { sleep: undefined, random: () => 1 });
    const controller = new AbortController();
    const writing = sink.write(logs(2), controller.signal);
    await waitFor('server.bulks().length === 1', () => server.bulks().length === 1);
    const started = Date.now();
    controller.abort();
    const error = await writing.catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(500);
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({ code: 'SHUTDOWN', retriable: true });
  });

  it('aborts a request in flight, and stop() ends start-up retries', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.path === '/_bulk' ? { delayMs: 10_000, body: '{}' } : undefined);
    const { sink, families } = await startSink([server.url], {}, { sleep: undefined });
    const controller = new AbortController();
    const writing = sink.write(logs(1), controller.signal);
    await waitFor('server.bulks().length === 1', () => server.bulks().length === 1);
    const started = Date.now();
    controller.abort();
    await expect(writing).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(await sampleValue(families, 'tributary_component_queued_events')).toBe(0);

    const down = `http://127.0.0.1:${await freePort()}`;
    const { metrics } = testComponentMetrics('sink');
    const parsed = elasticsearchOutputSchema.parse({ type: 'elasticsearch', endpoints: [down], retry: { initial_backoff: '10s', max_backoff: '10s' } });
    const blocked = new ElasticsearchSink('es', parsed, metrics, pino({ level: 'silent' }));
    const starting = blocked.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopAt = Date.now();
    await blocked.stop();
    await expect(starting).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(Date.now() - stopAt).toBeLessThan(500);
  });
});
