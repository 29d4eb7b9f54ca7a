import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CollectingConsumer } from '../../../shared/pipeline/collecting-consumer.js';
import type { BatchConsumer } from '../../../shared/pipeline/types.js';
import type { RawMetricEvent } from '../../../shared/record/raw-event.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { makeTestCertificates } from '../../../shared/test-support/tls-certificates.js';
import { scrapeJobSchema } from './config.js';
import { compileRelabelRules } from './relabel.js';
import { SCRAPE_ACCEPT, loadScrapeClientOptions } from './scrape-client.js';
import { attachTargetLabels } from '../../metric-families/to-raw-events.js';
import { ScrapeLoop } from './scrape-loop.js';
import { targetsFromGroups } from './targets.js';
import { listenLocal } from '../../../shared/test-support/ports.js';

interface Route {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  delayMs?: number;
  /** Send this many bytes of the body, then nothing more (the connection stays open). */
  stallAfterBytes?: number;
}

const EXPOSITION = `# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{code="200",job="inner"} 1027 1700000000000
http_requests_total{code="500"} 3
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 5
latency_seconds_bucket{le="+Inf"} 7
latency_seconds_sum 1.5
latency_seconds_count 7
temperature NaN
`;

/** A loop for the first target of `job` (a scrape_configs entry), collecting what it hands on (or handing it to `consumer`). */
async function loopFor(job: Record<string, unknown>, maxEvents = 100, handOn?: BatchConsumer) {
  const config = scrapeJobSchema.parse(job);
  const [target] = targetsFromGroups(config, config.static_configs);
  if (!target) throw new Error('no target');
  const consumer = new CollectingConsumer<RawMetricEvent>();
  const { families, metrics } = testComponentMetrics('source');
  const loop = new ScrapeLoop(target, config, {
    sourceName: 'prom',
    host: 'host-1',
    agentId: 'agent-1',
    consumer: handOn ?? consumer,
    limits: { maxEvents, maxBytes: 1 << 20 },
    client: await loadScrapeClientOptions(config),
    relabel: compileRelabelRules(config.metric_relabel_configs),
    metrics,
    logger: silentLogger(),
    jitterSeed: 'seed',
  });
  return { loop, consumer, families };
}

describe('ScrapeLoop', () => {
  let server: Server;
  let base = '';
  let dir = '';
  const routes = new Map<string, Route>();
  const seenHeaders: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrape-loop-'));
    server = createServer((request, response) => {
      seenHeaders.push(request.headers);
      const route = routes.get(new URL(request.url ?? '/', 'http://x').pathname);
      const reply = () => {
        if (!route) return response.writeHead(404).end();
        if (route.stallAfterBytes !== undefined) {
          response.writeHead(route.status ?? 200, route.headers).write(Buffer.from(route.body).subarray(0, route.stallAfterBytes));
          return;
        }
        response.writeHead(route.status ?? 200, route.headers ?? { 'content-type': 'text/plain; version=0.0.4' }).end(route.body);
      };
      if (route?.delayMs) setTimeout(reply, route.delayMs);
      else reply();
    });
    await listenLocal(server);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  async function scrape(path: string, job: Record<string, unknown> = {}, startMs = 1_800_000_000_000) {
    const { loop, consumer, families } = await loopFor(
      { job_name: 'app', scrape_timeout: '500ms', metrics_path: path, static_configs: [{ targets: [base], labels: { env: 'test' } }], ...job },
      3,
    );
    const report = await loop.scrapeOnce(startMs);
    const byName = new Map(consumer.events.map((event) => [`${event.name}${event.labels.code ? `/${event.labels.code}` : ''}`, event]));
    return { report, consumer, events: consumer.events, byName, loop, families };
  }

  it('13.2: a timestamp or _created no raw event can hold is a counted sample_invalid drop; the rest of the scrape goes on', async () => {
    const OPENMETRICS = { 'content-type': 'application/openmetrics-text; version=1.0.0' };
    const cases: Array<{ body: string; openMetrics?: boolean; invalid: number; kept: string[]; created?: boolean }> = [
      // Text format: integer milliseconds past year 9999 (and past what a Date holds).
      { body: 'a 1 99999999999999999\nb 2\n', invalid: 1, kept: ['b'] },
      { body: 'a 1 253402300800000\nb 2\n', invalid: 1, kept: ['b'] },
      // OpenMetrics: seconds.
      { body: 'a 1 1e300\nb 2\n# EOF\n', openMetrics: true, invalid: 1, kept: ['b'] },
      { body: 'a 1 -1e300\nb 2\n# EOF\n', openMetrics: true, invalid: 1, kept: ['b'] },
      // A bad _created costs only itself: the counter's value is kept, without `created`.
      { body: '# TYPE a counter\na_total 1\na_created 1e300\nb 2\n# EOF\n', openMetrics: true, invalid: 1, kept: ['a_total', 'b'], created: false },
      { body: '# TYPE a counter\na_total 1\na_created NaN\nb 2\n# EOF\n', openMetrics: true, invalid: 1, kept: ['a_total', 'b'], created: false },
      { body: '# TYPE a counter\na_total 1\na_created +Inf\nb 2\n# EOF\n', openMetrics: true, invalid: 1, kept: ['a_total', 'b'], created: false },
      // A histogram whose counts JSON cannot hold: the whole series (its 2 samples) is refused.
      { body: '# TYPE h histogram\nh_bucket{le="+Inf"} NaN\nh_count +Inf\nb 2\n', invalid: 2, kept: ['b'] },
    ];
    for (const [index, { body, openMetrics, invalid, kept, created }] of cases.entries()) {
      routes.set(`/bad-${index}`, { body, ...(openMetrics ? { headers: OPENMETRICS } : {}) });
      const { report, events, byName, families } = await scrape(`/bad-${index}`);
      expect(report, body).toMatchObject({ up: true, samplesInvalid: invalid, samplesPostRelabeling: kept.length });
      expect(events.map((event) => event.name).slice(0, kept.length), body).toEqual(kept);
      expect(byName.get('up')?.value).toBe(1);
      if (created === false) expect(byName.get('a_total')?.created).toBeUndefined();
      expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sample_invalid' }), body).toBe(invalid);
    }
    // honor_timestamps false: the exposed timestamp is not used, so it is not a reason to refuse the sample.
    routes.set('/far', { body: 'a 1 99999999999999999\n' });
    const unhonored = await scrape('/far', { honor_timestamps: false });
    expect(unhonored.report).toMatchObject({ up: true, samplesInvalid: 0, samplesPostRelabeling: 1 });
  });

  it('13.2: no failure escapes a scrape: a broken schedule and a failing hand-on are reported, and the loop keeps scraping', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const { report } = await scrape('/ok', {}, Number.NaN);
    expect(report.up).toBe(false);
    expect(report.error).toBe('scrape time NaN ms is not a representable time');

    let attempts = 0;
    const failing: BatchConsumer = {
      consume: () => {
        attempts++;
        return Promise.reject(new Error('spool unavailable'));
      },
    };
    const job = { job_name: 'app', scrape_interval: '20ms', metrics_path: '/ok', static_configs: [{ targets: [base] }] };
    const { loop } = await loopFor(job, 100, failing);
    expect(await loop.scrapeOnce()).toMatchObject({ up: false, error: 'spool unavailable' });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      loop.start();
      await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
      await loop.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('publishes every series with target labels, types, help, the synthetic series and Prometheus-style label clashes', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const { report, events, byName, consumer } = await scrape('/ok');
    // Samples, as Prometheus counts them: 2 counters, 2 buckets + _sum + _count, 1 untyped.
    expect(report).toMatchObject({ up: true, samplesScraped: 7, samplesPostRelabeling: 7, seriesAdded: 7, events: 9 });
    expect(events.map((event) => event.name)).toEqual([
      'http_requests_total',
      'http_requests_total',
      'latency_seconds',
      'temperature',
      'up',
      'scrape_duration_seconds',
      'scrape_samples_scraped',
      'scrape_samples_post_metric_relabeling',
      'scrape_series_added',
    ]);
    // Batches respect the emit limit (3 events), all keyed by the target.
    expect(consumer.batches.map((batch) => batch.eventCount)).toEqual([3, 3, 3]);
    expect(new Set(consumer.batches.map((batch) => batch.key)).size).toBe(1);
    expect(byName.get('http_requests_total/200')).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
      observed_at: '2027-01-15T08:00:00.000Z',
      time: '2023-11-14T22:13:20.000Z',
      host: 'host-1',
      agent_id: 'agent-1',
      source: { type: 'prometheus_scrape', name: 'prom', job: 'app', instance: base },
      name: 'http_requests_total',
      type: 'counter',
      help: 'Requests served.',
      // The scraped job clashes with the target's and is kept as exported_job.
      labels: { code: '200', exported_job: 'inner', job: 'app', env: 'test', instance: base },
      value: 1027,
    });
    expect(byName.get('latency_seconds')).toMatchObject({
      type: 'histogram',
      buckets: [
        { le: 0.1, count: 5 },
        { le: '+Inf', count: 7 },
      ],
      sum: 1.5,
      count: 7,
    });
    expect(byName.get('temperature')).toMatchObject({ type: 'unknown', value: 'NaN' });
    expect(byName.get('up')).toMatchObject({ value: 1, labels: { job: 'app', env: 'test', instance: base } });
    expect(byName.get('scrape_samples_scraped')?.value).toBe(7);
    expect(seenHeaders.at(-1)).toMatchObject({ accept: SCRAPE_ACCEPT, 'x-prometheus-scrape-timeout-seconds': '0.5' });
  });

  it('gives a replayed scrape the same ids and the next scrape new ones, and counts only new series as added', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const first = await scrape('/ok', {}, 1_800_000_000_000);
    const again = await scrape('/ok', {}, 1_800_000_000_000);
    expect(again.events.map((event) => event.id)).toEqual(first.events.map((event) => event.id));
    const next = await first.loop.scrapeOnce(1_800_000_015_000);
    expect(next.seriesAdded).toBe(0);
    const ids = new Set(first.consumer.events.map((event) => event.id));
    expect(ids.size).toBe(18);
  });

  it('honor_labels keeps scraped labels; honor_timestamps false uses the scrape time', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const { byName } = await scrape('/ok', { honor_labels: true, honor_timestamps: false });
    const event = byName.get('http_requests_total/200');
    expect(event?.labels).toEqual({ job: 'inner', env: 'test', instance: base, code: '200' });
    expect(event?.time).toBeUndefined();
  });

  it('applies metric_relabel_configs before counting samples and adds nothing a rule dropped', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const { report, byName } = await scrape('/ok', {
      metric_relabel_configs: [
        { action: 'drop', source_labels: ['__name__'], regex: 'latency_.*' },
        { source_labels: ['code'], regex: '5..', target_label: 'error', replacement: 'true' },
      ],
    });
    expect(report).toMatchObject({ samplesScraped: 7, samplesPostRelabeling: 3 });
    expect(byName.has('latency_seconds')).toBe(false);
    expect(byName.get('http_requests_total/500')?.labels.error).toBe('true');
    expect(byName.get('scrape_samples_post_metric_relabeling')?.value).toBe(3);
  });

  it('reads OpenMetrics when the target answers with it, and gzip bodies', async () => {
    const openMetrics = '# TYPE jobs counter\n# HELP jobs Jobs run.\njobs_total 4\njobs_created 1700000000.5\n# EOF\n';
    routes.set('/om', {
      body: gzipSync(openMetrics),
      headers: { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8', 'content-encoding': 'gzip' },
    });
    const { byName, report } = await scrape('/om');
    expect(report.up).toBe(true);
    expect(byName.get('jobs_total')).toMatchObject({ type: 'counter', value: 4, help: 'Jobs run.', created: '2023-11-14T22:13:20.500Z' });
  });

  it('13.6: a gzip body that stalls is up = 0 at scrape_timeout, and the target is scraped again on schedule', async () => {
    const gzipped = gzipSync(EXPOSITION);
    routes.set('/stalls', { body: gzipped, headers: { 'content-encoding': 'gzip' }, stallAfterBytes: gzipped.length >> 1 });
    const job = { job_name: 'app', scrape_interval: '300ms', scrape_timeout: '200ms', metrics_path: '/stalls', static_configs: [{ targets: [base] }] };
    const { loop, consumer } = await loopFor(job);
    const ups = (): unknown[] => consumer.events.filter((event) => event.name === 'up').map((event) => event.value);
    loop.start();
    try {
      // Before the fix the first scrape never ended, so no `up` at all came out of this target again.
      await vi.waitFor(() => expect(ups()).toContain(0), { timeout: 10_000 });
      routes.set('/stalls', { body: gzipped, headers: { 'content-encoding': 'gzip' } });
      await vi.waitFor(() => expect(ups()).toContain(1), { timeout: 10_000 });
    } finally {
      await loop.stop();
    }
  });

  it('reports up = 0 with only the synthetic series for refused connections, HTTP errors, timeouts and limits', async () => {
    routes.set('/500', { status: 500, body: 'oops' });
    routes.set('/slow', { body: EXPOSITION, delayMs: 2_000 });
    routes.set('/ok', { body: EXPOSITION });
    const cases = [await scrape('/500'), await scrape('/slow'), await scrape('/ok', { sample_limit: 5 }), await scrape('/ok', { body_size_limit: 64 })];
    for (const { report, events, byName } of cases) {
      expect(report.up).toBe(false);
      expect(events.map((event) => event.name)).toEqual([
        'up',
        'scrape_duration_seconds',
        'scrape_samples_scraped',
        'scrape_samples_post_metric_relabeling',
        'scrape_series_added',
      ]);
      expect(byName.get('up')?.value).toBe(0);
    }
    expect(cases.map(({ report }) => report.error)).toEqual([
      `http://${base}/500: server returned HTTP status 500 Internal Server Error`,
      `http://${base}/slow: timed out after 500 ms`,
      '7 samples exceed sample_limit 5',
      `http://${base}/ok: body exceeds body_size_limit of 64 bytes`,
    ]);
    const refused = await (async () => {
      const { loop, consumer } = await loopFor({ job_name: 'gone', static_configs: [{ targets: ['127.0.0.1:1'] }] });
      return { report: await loop.scrapeOnce(), consumer };
    })();
    expect(refused.report.up).toBe(false);
    expect(refused.report.error).toMatch(/ECONNREFUSED/);
    expect(refused.consumer.events.find((event) => event.name === 'up')?.value).toBe(0);
  });

  it('sends basic auth and bearer tokens, reading credential files on every scrape', async () => {
    routes.set('/ok', { body: EXPOSITION });
    await writeFile(join(dir, 'password'), 's3cret\n');
    await scrape('/ok', { basic_auth: { username: 'prom', password_file: join(dir, 'password') } });
    expect(seenHeaders.at(-1)?.authorization).toBe(`Basic ${Buffer.from('prom:s3cret').toString('base64')}`);
    await writeFile(join(dir, 'token'), 'tok-1\n');
    await scrape('/ok', { authorization: { credentials_file: join(dir, 'token') } });
    expect(seenHeaders.at(-1)?.authorization).toBe('Bearer tok-1');
    await writeFile(join(dir, 'token'), 'tok-2\n');
    await scrape('/ok', { authorization: { credentials_file: join(dir, 'token') } });
    expect(seenHeaders.at(-1)?.authorization).toBe('Bearer tok-2');
  });

  it('spreads targets over the interval with an offset that is stable for a target and seed', async () => {
    routes.set('/ok', { body: EXPOSITION });
    const { loop } = await scrape('/ok');
    expect(loop.offsetMs).toBeGreaterThanOrEqual(0);
    expect(loop.offsetMs).toBeLessThan(15_000);
    expect((await scrape('/ok')).loop.offsetMs).toBe(loop.offsetMs);
  });
});

describe('ScrapeLoop over TLS', () => {
  it('verifies the target with the configured CA and server name, and refuses it without them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrape-tls-'));
    try {
      const certificates = await makeTestCertificates(dir, 'metrics.test');
      const server = createHttpsServer({ key: certificates.key, cert: certificates.cert }, (_request, response) =>
        response.writeHead(200, { 'content-type': 'text/plain' }).end('secure_gauge 42\n'),
      );
      await listenLocal(server);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const scrapeWith = async (tls: Record<string, unknown> | undefined) => {
        const { loop, consumer } = await loopFor({
          job_name: 'tls',
          scheme: 'https',
          tls_config: tls,
          static_configs: [{ targets: [`127.0.0.1:${address.port}`] }],
        });
        return { report: await loop.scrapeOnce(), events: consumer.events };
      };
      try {
        const trusted = await scrapeWith({ ca_file: certificates.caFile, server_name: 'metrics.test' });
        expect(trusted.report.up).toBe(true);
        expect(trusted.events.find((event) => event.name === 'secure_gauge')?.value).toBe(42);
        const untrusted = await scrapeWith(undefined);
        expect(untrusted.report.up).toBe(false);
        expect(untrusted.report.error).toMatch(/: TLS failed: the target's certificate is not signed by a CA the client trusts: check tls_config\.ca_file \(/);
        const wrongName = await scrapeWith({ ca_file: certificates.caFile });
        expect(wrongName.report.error).toMatch(
          /: TLS failed: the target's certificate does not name the host connected to: check tls_config\.server_name and the targets \(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match/,
        );
        expect((await scrapeWith({ insecure_skip_verify: true })).report.up).toBe(true);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('attachTargetLabels', () => {
  it('renames clashing scraped labels to exported_, repeatedly if needed, and removes empty values', () => {
    expect(attachTargetLabels({ job: 'a', exported_job: 'b', empty: '' }, { job: 'j', exported_job: 'k', instance: 'i' }, false)).toEqual({
      exported_exported_job: 'a',
      exported_exported_exported_job: 'b',
      job: 'j',
      exported_job: 'k',
      instance: 'i',
    });
    expect(attachTargetLabels({ job: 'a', x: '' }, { job: 'j', instance: 'i' }, true)).toEqual({ job: 'a', instance: 'i' });
  });
});
