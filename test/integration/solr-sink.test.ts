import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solrOutputSchema } from '../../collector/outputs/solr/config.js';
import { SolrSink } from '../../collector/outputs/solr/solr-sink.js';
import { startLocalSolr, type LocalSolr } from '../../deploy/dev/solr/local-solr.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { sampleValue, testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { logRecord, metricRecord } from '../helpers/records.js';
import { capturingLogger, outgoing } from '../helpers/sinks.js';

/**
 * The Solr sink against a real Solr 9 (solr-test-framework's JettySolrRunner
 * from Maven Central jars, the committed configset): documents land with the
 * typed fields, a replay overwrites instead of duplicating, a document Solr
 * refuses comes back in `rejected` while the rest of its request is indexed
 * (with the tolerant chain, and without it), and a write survives the server
 * dying and coming back.
 */

const id = (prefix: string, n: number): string => `${prefix}${n.toString(16).padStart(32 - prefix.length, '0')}`;

interface SelectResponse {
  response: { numFound: number; docs: Array<Record<string, unknown>> };
}

/** Documents without `_version_` (the update log's, returned from docValues with `fl=*`). */
async function select(solr: LocalSolr, core: string, query: Record<string, string>): Promise<SelectResponse['response']> {
  const response = await fetch(`${solr.url}/${core}/select?${new URLSearchParams({ wt: 'json', ...query }).toString()}`, {
    signal: AbortSignal.timeout(30_000),
  });
  expect(response.status).toBe(200);
  const { numFound, docs } = ((await response.json()) as SelectResponse).response;
  return { numFound, docs: docs.map(({ _version_: _, ...rest }) => rest) };
}

/** Commits (opening a searcher), then counts: exact, independent of commitWithin timing. */
async function count(solr: LocalSolr, core: string, q = '*:*'): Promise<number> {
  const commit = await fetch(`${solr.url}/${core}/update?commit=true&wt=json`, { signal: AbortSignal.timeout(30_000) });
  expect(commit.status).toBe(200);
  return (await select(solr, core, { q, rows: '0' })).numFound;
}

describe('SolrSink against Solr 9', () => {
  let solr: LocalSolr;
  /** Set once started: afterAll stops it even when beforeAll failed half-way. */
  let started: LocalSolr | undefined;
  const sinks: SolrSink[] = [];

  function createSink(core: string, config: Record<string, unknown> = {}) {
    const { families, metrics } = testComponentMetrics('sink');
    const { logger, lines } = capturingLogger('info');
    const parsed = solrOutputSchema.parse({
      type: 'solr',
      endpoints: [solr.url],
      collection: core,
      retry: { initial_backoff: '200ms', max_backoff: '2s' },
      ...config,
    });
    const sink = new SolrSink('it', parsed, metrics, logger);
    sinks.push(sink);
    return { sink, families, logs: lines };
  }

  beforeAll(async () => {
    solr = started = await startLocalSolr({ cores: ['logs_it', 'metrics_it', 'explicit_it', 'plain_it', 'outage_it'] });
  }, 300_000);

  afterAll(async () => {
    for (const sink of sinks) await sink.stop();
    await started?.stop();
  });

  it('indexes logs and metrics with typed fields, and a replay overwrites instead of adding', async () => {
    const { sink, families } = createSink('logs_it', { collection: { logs: 'logs_it', metrics: 'metrics_it' } });
    await sink.start();
    const records = [
      ...Array.from({ length: 1_500 }, (_, n) =>
        outgoing(
          logRecord({
            id: id('a', n),
            timestamp: '2026-11-24T01:30:00.125+01:00',
            body: `request ${n} served`,
            severity_text: n % 10 === 0 ? 'ERROR' : 'INFO',
            severity_number: n % 10 === 0 ? 17 : 9,
            trace_id: '0af7651916cd43dd8448eb211c80319c',
            attributes: { 'log.file.path': '/var/log/web.log', 'http.response.status_code': 200 + (n % 3), duration: n / 8, cached: n % 2 === 0 },
            resource: { 'service.name': 'Web Shop', 'host.name': 'web-1' },
          }),
        ),
      ),
      outgoing(
        metricRecord({
          id: id('b', 1),
          name: 'http_request_duration_seconds',
          type: 'histogram',
          prometheus_type: 'histogram',
          unit: 'seconds',
          value: undefined,
          histogram: { count: 6, sum: 1.5, explicit_bounds: [0.1, 1], bucket_counts: [3, 2, 1] },
          attributes: { route: '/cart' },
          resource: { job: 'web', instance: 'web-1:9100' },
        }),
      ),
      outgoing(metricRecord({ id: id('b', 2), name: 'up', value: 'NaN' })),
      outgoing(
        metricRecord({
          id: id('b', 3),
          name: 'rpc_seconds',
          type: 'summary',
          prometheus_type: 'summary',
          value: undefined,
          summary: { count: 0, quantile_values: [{ quantile: 0.5, value: 'NaN' }] },
        }),
      ),
    ];
    expect(await sink.write(records)).toEqual({ rejected: [] });
    expect(await count(solr, 'logs_it')).toBe(1_500);
    expect(await count(solr, 'metrics_it')).toBe(3);

    const [doc] = (await select(solr, 'logs_it', { q: 'body_t:"request 42 served"', fl: '*' })).docs;
    expect(doc).toEqual({
      id: id('a', 42),
      schema_s: 'tributary.log.v1',
      timestamp_dt: '2026-11-24T00:30:00.125Z',
      observed_timestamp_dt: '2026-11-23T12:00:00Z',
      severity_text_s: 'INFO',
      severity_number_l: 9,
      body_t: 'request 42 served',
      trace_id_s: '0af7651916cd43dd8448eb211c80319c',
      'attributes.log.file.path_s': '/var/log/web.log',
      'attributes.http.response.status_code_d': 200,
      'attributes.duration_d': 5.25,
      'attributes.cached_b': true,
      'resource.service.name_s': 'Web Shop',
      'resource.host.name_s': 'web-1',
    });
    // Typed fields answer typed queries: a term on a string, a range on a double and on a date.
    expect(await count(solr, 'logs_it', 'severity_text_s:ERROR AND resource.host.name_s:web-1')).toBe(150);
    expect(await count(solr, 'logs_it', 'attributes.http.response.status_code_d:[201 TO 202]')).toBe(1_000);
    expect(await count(solr, 'logs_it', 'timestamp_dt:[2026-11-24T00:00:00Z TO 2026-11-24T01:00:00Z]')).toBe(1_500);

    const [histogram] = (await select(solr, 'metrics_it', { q: `id:${id('b', 1)}`, fl: '*' })).docs;
    expect(histogram).toMatchObject({
      name_s: 'http_request_duration_seconds',
      type_s: 'histogram',
      unit_s: 'seconds',
      histogram_count_l: 6,
      histogram_sum_d: 1.5,
      histogram_bounds_ds: [0.1, 1],
      histogram_counts_ls: [3, 2, 1],
      'attributes.route_s': '/cart',
      'resource.job_s': 'web',
    });
    expect((await select(solr, 'metrics_it', { q: 'value_special_s:NaN', fl: 'id' })).docs).toEqual([{ id: id('b', 2) }]);
    expect((await select(solr, 'metrics_it', { q: `id:${id('b', 3)}`, fl: 'summary_values_ds,summary_quantiles_ds' })).docs).toEqual([
      { summary_quantiles_ds: [0.5], summary_values_ds: ['NaN'] },
    ]);

    // A replay (a collector restarted before committing) overwrites: same count, the later version wins.
    const replay = records.slice(0, 1_500).map((record, n) => outgoing({ ...(record.record as LogRecord), body: `request ${n} replayed` }));
    expect(await sink.write(replay)).toEqual({ rejected: [] });
    expect(await count(solr, 'logs_it')).toBe(1_500);
    expect(await count(solr, 'logs_it', 'body_t:replayed')).toBe(1_500);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(records.length + 1_500);
    expect(await sampleValue(families, 'tributary_component_sent_batches_total')).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('maps to a schema the user gives; a document the schema refuses is rejected while the rest of its request is indexed', async () => {
    const { sink, families } = createSink('explicit_it', {
      mapping: { mode: 'explicit', fields: { body: 'message_t', 'attributes.amount': 'amount_l', 'resource.service.name': 'service_s' } },
    });
    await sink.start();
    const records = Array.from({ length: 50 }, (_, n) =>
      outgoing(
        logRecord({ id: id('c', n), body: `payment ${n}`, attributes: { amount: n === 17 ? 'many' : n, other: 'x' }, resource: { 'service.name': 'pay' } }),
      ),
    );
    const result = await sink.write(records);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.index).toBe(17);
    expect(result.rejected[0]?.reason).toMatch(/^400 ADD: .*Error adding field 'amount_l'='many'/);
    expect(await count(solr, 'explicit_it')).toBe(49);
    const [doc] = (await select(solr, 'explicit_it', { q: `id:${id('c', 3)}`, fl: '*' })).docs;
    expect(doc).toEqual({ id: id('c', 3), message_t: 'payment 3', amount_l: 3, service_s: 'pay' });
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sink_rejected' })).toBe(1);
  }, 120_000);

  it('without the tolerant chain (a server that lacks it), rejects exactly the bad documents and indexes the rest', async () => {
    const { sink, logs } = createSink('plain_it', {
      update_chain: 'not_on_this_server',
      mapping: { fields: { 'attributes.amount': 'amount_l' } },
    });
    await sink.start();
    expect(logs.join('')).toContain('the update chain is not configured on the server');
    const bad = new Set([0, 333, 334, 998]);
    const records = Array.from({ length: 999 }, (_, n) => outgoing(logRecord({ id: id('d', n), attributes: { amount: bad.has(n) ? `bad ${n}` : n } })));
    const result = await sink.write(records);
    expect(result.rejected.map((rejected) => rejected.index)).toEqual([0, 333, 334, 998]);
    for (const rejected of result.rejected)
      expect(rejected.reason).toMatch(/\/plain_it\/update: 400 ERROR: \[doc=d0+[0-9a-f]+\] Error adding field 'amount_l'/);
    expect(await count(solr, 'plain_it')).toBe(995);
  }, 120_000);

  it('keeps retrying while Solr is down and finishes the write when it is back', async () => {
    const { sink, families, logs } = createSink('outage_it', { request_timeout: '5s' });
    await sink.start();
    await solr.kill();
    const records = Array.from({ length: 300 }, (_, n) => outgoing(logRecord({ id: id('e', n), body: `outage ${n}` })));
    let settled = false;
    const writing = sink.write(records).finally(() => {
      settled = true;
    });
    // Until the server is back the write holds (the step stays uncommitted) and the sink is not ready.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(settled).toBe(false);
    expect(sink.ready()).toBe(false);
    await solr.restart();
    expect(await writing).toEqual({ rejected: [] });
    expect(sink.ready()).toBe(true);
    expect(await count(solr, 'outage_it')).toBe(300);
    // What was indexed before the crash is still there.
    expect(await count(solr, 'logs_it')).toBe(1_500);
    expect(await sampleValue(families, 'tributary_component_retried_events_total')).toBeGreaterThanOrEqual(300);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_unavailable' })).toBeGreaterThan(0);
    expect(logs.join('')).toContain('update requests failed; retrying those records');
  }, 180_000);
});
