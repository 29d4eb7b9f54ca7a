import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { makeTestCertificates } from '../../../shared/test-support/tls-certificates.js';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import { capturingLogger, outgoing } from '../../../test/helpers/sinks.js';
import { freePort } from '../../../shared/test-support/ports.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { solrOutputSchema } from './config.js';
import { FakeSolr } from './fake-solr.js';
import { SolrSink, type SolrSinkOptions } from './solr-sink.js';

const id = (n: number): string => n.toString(16).padStart(32, '0');
const logs = (count: number, attributes: (n: number) => LogRecord['attributes'] = () => ({})): OutgoingRecord[] =>
  Array.from({ length: count }, (_, n) => outgoing(logRecord({ id: id(n), body: `line ${n}`, attributes: attributes(n) })));

let servers: FakeSolr[] = [];
let sinks: SolrSink[] = [];
let dirs: string[] = [];

afterEach(async () => {
  for (const sink of sinks) await sink.stop();
  for (const server of servers) await server.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  servers = [];
  sinks = [];
  dirs = [];
});

async function fakeServer(options?: Parameters<typeof FakeSolr.start>[0]): Promise<FakeSolr> {
  const server = await FakeSolr.start(options);
  servers.push(server);
  return server;
}

/** A sink, started; backoff is recorded, not waited for, and jitter is off (`random` = 1). */
async function startSink(endpoints: string[], config: Record<string, unknown> = {}, options: SolrSinkOptions = {}) {
  const { logger, lines } = capturingLogger('info');
  const { families, metrics } = testComponentMetrics('sink');
  const delays: number[] = [];
  const sink = new SolrSink('solr', solrOutputSchema.parse({ type: 'solr', endpoints, ...config }), metrics, logger, {
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    random: () => 1,
    ...options,
  });
  sinks.push(sink);
  await sink.start();
  return { sink, families, delays, logText: () => lines.join('') };
}

describe('SolrSink', () => {
  it('posts JSON arrays to the update handler with commitWithin and the tolerant chain, split by events and bytes', async () => {
    const server = await fakeServer();
    const { sink, families } = await startSink([server.url], { batch: { max_events: 400 } });
    expect(sink.ready()).toBe(true);
    expect(await sink.write(logs(1_000))).toEqual({ rejected: [] });
    expect(server.store().size).toBe(1_000);
    expect(server.updates().map((documents) => documents.length)).toEqual([400, 400, 200]);
    const update = server.requests.at(-1);
    expect(update?.path).toBe('/tributary/update');
    expect(Object.fromEntries(update?.query ?? [])).toEqual({ wt: 'json', commitWithin: '1000', 'update.chain': 'tolerant' });
    expect(update?.headers['content-type']).toBe('application/json');
    // The start-up probe: an empty update, without commitWithin.
    expect(server.requests[0]?.body).toBe('[]');
    expect(server.requests[0]?.query.get('commitWithin')).toBeNull();
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(1_000);
    expect(await sampleValue(families, 'tributary_component_sent_batches_total')).toBe(3);
    expect(await sampleValue(families, 'tributary_component_queued_events')).toBe(0);

    // max_bytes splits too: every request body stays within it.
    const before = server.requests.length;
    const small = await startSink([server.url], { batch: { max_bytes: '2KiB' } });
    await small.sink.write(logs(40));
    const bodies = server.requests.slice(before).filter((request) => request.body !== '[]');
    expect(bodies.length).toBeGreaterThan(3);
    for (const request of bodies) expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(2048);
    expect(bodies.reduce((sum, request) => sum + (JSON.parse(request.body) as unknown[]).length, 0)).toBe(40);
  });

  it('routes logs and metrics to their collections and overwrites on replay', async () => {
    const server = await fakeServer({ cores: ['logs', 'metrics'] });
    const { sink } = await startSink([server.url], { collection: { logs: 'logs', metrics: 'metrics' }, commit_within: 0 });
    const records = [...logs(3), outgoing(metricRecord({ id: id(100), value: 2 }))];
    await sink.write(records);
    await sink.write(records);
    expect(server.store('logs').size).toBe(3);
    expect(server.store('metrics').get(id(100))).toMatchObject({ name_s: 'up', value_d: 2 });
    // commit_within 0: Solr's autoSoftCommit decides.
    expect(server.requests.at(-1)?.query.get('commitWithin')).toBeNull();
  });

  it('with the tolerant chain, rejects exactly the documents Solr lists and counts them', async () => {
    const server = await fakeServer();
    const { sink, families, logText } = await startSink([server.url], { mapping: { fields: { 'attributes.n': 'n_l' } } });
    const result = await sink.write(logs(10, (n) => ({ n: n === 3 || n === 7 ? 'bad' : n })));
    expect(result.rejected).toEqual([
      { index: 3, reason: expect.stringContaining('400 ADD: ERROR: [doc=' + id(3) + "] Error adding field 'n_l'='bad'") as unknown },
      { index: 7, reason: expect.stringContaining(`[doc=${id(7)}]`) as unknown },
    ]);
    expect(server.store().size).toBe(8);
    expect(server.updates()).toHaveLength(1);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sink_rejected' })).toBe(2);
    expect(logText()).toContain('Solr refused documents; they go to the dead-letter topic');
  });

  it('falls back when the server has no such chain: the 400 names the bad document, the rest is sent again at once', async () => {
    const server = await fakeServer();
    server.chains.clear();
    const { sink, delays, logText } = await startSink([server.url], { mapping: { fields: { 'attributes.n': 'n_l' } } });
    expect(logText()).toContain('the update chain is not configured on the server');
    const result = await sink.write(logs(100, (n) => ({ n: [10, 11, 99].includes(n) ? 'bad' : n })));
    expect(result.rejected.map((rejected) => rejected.index)).toEqual([10, 11, 99]);
    expect(server.store().size).toBe(97);
    expect(server.requests.filter((request) => request.body !== '[]').every((request) => request.query.get('update.chain') === null)).toBe(true);
    // One request, then one per refused document (each resend starts after the one refused), no backoff.
    expect(server.updates().map((documents) => documents.length)).toEqual([100, 99, 98, 97]);
    expect(delays).toEqual([]);
  });

  it('splits a refused request that names no document until the bad one stands alone', async () => {
    const server = await fakeServer();
    server.respond = (request) => {
      if (request.body === '[]') return undefined;
      const documents = JSON.parse(request.body) as Array<{ id: string }>;
      // A refusal without a document (like a proxy's 400, or a schema error Solr reports without the id).
      if (documents.some((document) => document.id === id(5))) return FakeSolr.error(400, 'Document is missing mandatory uniqueKey field: id');
      return undefined;
    };
    const { sink, delays } = await startSink([server.url]);
    const result = await sink.write(logs(16));
    expect(result.rejected).toEqual([{ index: 5, reason: expect.stringContaining('400 Document is missing mandatory uniqueKey field: id') as unknown }]);
    expect(server.store().size).toBe(15);
    expect(server.updates().map((documents) => documents.length)).toEqual([16, 8, 8, 4, 4, 2, 2, 1, 1]);
    expect(delays).toEqual([]);
  });

  it('switches the chain off when it disappears at run time', async () => {
    const server = await fakeServer();
    const { sink, logText } = await startSink([server.url]);
    server.chains.clear();
    expect(await sink.write(logs(5))).toEqual({ rejected: [] });
    expect(server.store().size).toBe(5);
    expect(logText()).toContain('the update chain is gone from the server; sending without it');
  });

  it('retries 5xx and connection errors with backoff, fails over between endpoints, and is not ready meanwhile', async () => {
    const server = await fakeServer();
    let failures = 3;
    server.respond = (request) => {
      if (request.body === '[]' || failures === 0) return undefined;
      failures--;
      return failures === 1 ? 'reset' : FakeSolr.error(503, 'Service Unavailable');
    };
    const { sink, families, delays, logText } = await startSink([server.url], { retry: { initial_backoff: '100ms', max_backoff: '1s' } });
    let readyDuringRetry: boolean | undefined;
    const original = server.respond;
    server.respond = (request, fake) => {
      if (failures === 1) readyDuringRetry = sink.ready();
      return original(request, fake);
    };
    expect(await sink.write(logs(20))).toEqual({ rejected: [] });
    expect(readyDuringRetry).toBe(false);
    expect(sink.ready()).toBe(true);
    expect(server.store().size).toBe(20);
    expect(delays).toEqual([100, 200, 400]);
    expect(await sampleValue(families, 'tributary_component_retried_events_total')).toBe(60);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'sink_unavailable' })).toBe(3);
    expect(logText()).toContain('update requests failed; retrying those records');

    // Two endpoints, one refusing connections: every request still lands, at once.
    const down = `http://127.0.0.1:${await freePort()}/solr`;
    const both = await startSink([down, server.url]);
    for (let round = 0; round < 4; round++) expect(await both.sink.write(logs(2))).toEqual({ rejected: [] });
    expect(both.delays).toEqual([]);
  });

  it('gives up after retry.max_attempts and rejects the records with the last error', async () => {
    const server = await fakeServer();
    server.respond = (request) => (request.body === '[]' ? undefined : FakeSolr.error(500, 'boom'));
    const { sink } = await startSink([server.url], { retry: { max_attempts: 3 } });
    const result = await sink.write(logs(2));
    expect(result.rejected).toEqual([
      { index: 0, reason: expect.stringMatching(/^gave up after 3 attempts: .*\/tributary\/update: 500 boom$/) as unknown },
      { index: 1, reason: expect.stringMatching(/^gave up after 3 attempts/) as unknown },
    ]);
  });

  it('holds a write while the collection is missing (404), logged at error, and aborts it at shutdown', async () => {
    const server = await fakeServer();
    const { sink, logText } = await startSink([server.url]);
    server.cores.delete('tributary');
    const controller = new AbortController();
    const writing = sink.write(logs(3), controller.signal);
    await waitFor('the refusal to be logged', () => logText().includes('Solr refuses requests'));
    expect(logText()).toContain('Solr refuses requests (credentials, permissions, or no such collection?)');
    expect(sink.ready()).toBe(false);
    controller.abort();
    await expect(writing).rejects.toMatchObject({ code: 'SHUTDOWN', retriable: true });
  });

  it('keeps start-up retrying while the collection does not exist, saying so', async () => {
    const server = await fakeServer({ cores: [] });
    const { logger, lines } = capturingLogger('warn');
    const sink = new SolrSink(
      'solr',
      solrOutputSchema.parse({ type: 'solr', endpoints: [server.url], retry: { initial_backoff: 10, max_backoff: 10 } }),
      testComponentMetrics('sink').metrics,
      logger,
    );
    const starting = sink.start();
    await waitFor('two start-up warnings', () => lines.length >= 2);
    server.cores.set('tributary', new Map());
    await starting;
    await sink.stop();
    expect(lines.join('')).toContain('404 Not Found: /tributary/update (does the collection exist?)');
  });

  it('sends basic auth from a password file and re-reads it after a 401', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'solr-sink-'));
    dirs.push(dir);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'old\n');
    const server = await fakeServer();
    const good = `Basic ${Buffer.from('tributary:new').toString('base64')}`;
    server.respond = (request) => (request.headers.authorization === good ? undefined : FakeSolr.error(401, 'require authentication'));
    const starting = startSink([server.url], {
      auth: { basic: { username: 'tributary', password_file: passwordFile } },
      retry: { initial_backoff: 10, max_backoff: 10 },
    });
    await waitFor('two requests', () => server.requests.length >= 2);
    await writeFile(passwordFile, 'new\n');
    const { sink } = await starting;
    expect(await sink.write(logs(2))).toEqual({ rejected: [] });
    expect(server.requests.at(-1)?.headers.authorization).toBe(good);
  });

  it('verifies the server with the configured CA and server name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'solr-sink-'));
    dirs.push(dir);
    const certificates = await makeTestCertificates(dir, 'solr.test');
    const server = await fakeServer({ tls: { key: certificates.key, cert: certificates.cert } });
    const { sink } = await startSink([server.url], { tls: { ca_file: certificates.caFile, server_name: 'solr.test' } });
    expect(await sink.write(logs(3))).toEqual({ rejected: [] });
    expect(server.store().size).toBe(3);
  });
});
