import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawLogEvent, RawMetricEvent } from '../../shared/record/raw-event.js';
import { brokers, collectRawEvents, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * 13.2 through the built binary: the audit's scrape targets, whose sample timestamps and `_created` values lie
 * outside the JavaScript Date range, took the agent process down (exit 1, a crash loop under systemd) and the
 * host's file tailing with it. Here the real agent scrapes them beside a file source: it stays up and ready,
 * counts each refused sample as `sample_invalid`, ships every good sample of every scrape, and every log line.
 */
const HOSTILE_TEXT = '# TYPE hostile_gauge gauge\nhostile_gauge 1 99999999999999999\n# TYPE good_gauge gauge\ngood_gauge 42\n';
const HOSTILE_OPENMETRICS = '# TYPE a counter\na_total 1\na_created 1e300\n# TYPE b gauge\nb 1 1e300\n# TYPE good_total counter\ngood_total 7\n# EOF\n';

function startTarget(body: string, contentType: string): Promise<{ server: Server; address: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': contentType });
    response.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, address: typeof address === 'object' && address !== null ? `127.0.0.1:${address.port}` : '' });
    }),
  );
}

function metricValue(text: string, family: string, reason: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${family}{`) && candidate.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('a hostile scrape target (real agent process)', () => {
  const servers: Server[] = [];
  let agent: RunningProcess | undefined;
  let dir = '';
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    for (const server of servers) server.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('13.2: the agent stays up and ready, counts the refused samples, and ships every good sample and every log line', async () => {
    const text = await startTarget(HOSTILE_TEXT, 'text/plain; version=0.0.4');
    const openMetrics = await startTarget(HOSTILE_OPENMETRICS, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    servers.push(text.server, openMetrics.server);
    dir = await mkdtemp(join(tmpdir(), 'tributary-hostile-scrape-'));
    await mkdir(join(dir, 'logs'));
    const [logTopic, metricTopic] = [uniqueName('hostile-logs'), uniqueName('hostile-metrics')];
    const port = await freePort();
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'hostile-scrape', host_name: 'e2e-host', data_dir: join(dir, 'data') },
      kafka: { brokers: brokers() },
      sources: {
        app: { type: 'file', include: [join(dir, 'logs', '*.log')] },
        targets: {
          type: 'prometheus_scrape',
          scrape_configs: [
            { job_name: 'text', scrape_interval: '500ms', static_configs: [{ targets: [text.address] }] },
            { job_name: 'openmetrics', scrape_interval: '500ms', static_configs: [{ targets: [openMetrics.address] }] },
          ],
        },
      },
      framer: { linger: '50ms' },
      output: { topic: logTopic, partitions: 1 },
      metrics_output: { topic: metricTopic, partitions: 1 },
      telemetry: { port },
    });
    agent = startCli('agent', config);
    await waitUntilReady(agent, `http://127.0.0.1:${port}`);

    const lines = Array.from({ length: 2_000 }, (_, index) => `line ${index} while targets lie about time`);
    await appendFile(join(dir, 'logs', 'app.log'), `${lines.join('\n')}\n`);
    // Three refused samples per round of scrapes (one from the text target, two from the OpenMetrics one).
    const metrics = await waitFor(
      'five rounds of refused samples',
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return metricValue(body, 'tributary_component_discarded_events_total', 'sample_invalid') >= 15 ? body : undefined;
      },
      60_000,
      250,
    );
    expect(agent.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(metricValue(metrics, 'tributary_component_errors_total', 'uncaught')).toBe(0);
    expect(metricValue(metrics, 'tributary_component_errors_total', 'component_failed')).toBe(0);
    expect(await agent.stop('SIGTERM')).toBe(0);

    const logEvents = await collectRawEvents<RawLogEvent>(logTopic, (events) => events.length >= lines.length, 60_000);
    expect(logEvents.map((event) => event.body)).toEqual(lines);

    // Every scrape that went out holds its good sample and none of the refused ones, and reports up = 1. Raw frames
    // are zstd NDJSON: read back with librdkafka and the zstd CLI, as any consumer could.
    const samples = execFileSync('sh', ['-c', `kcat -b ${brokers().join(',')} -C -t ${metricTopic} -o beginning -e -q -f '%s' | zstd -d -c`], {
      maxBuffer: 64 * 1024 * 1024,
    })
      .toString()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as RawMetricEvent);
    for (const job of ['text', 'openmetrics']) {
      const own = samples.filter((sample) => sample.source.job === job);
      const ups = own.filter((sample) => sample.name === 'up');
      const good = own.filter((sample) => sample.name === (job === 'text' ? 'good_gauge' : 'good_total'));
      expect(ups.length, job).toBeGreaterThanOrEqual(5);
      expect(ups.every((sample) => sample.value === 1)).toBe(true);
      expect(good.length, job).toBe(ups.length);
      expect(own.filter((sample) => ['hostile_gauge', 'b'].includes(sample.name))).toEqual([]);
    }
  }, 180_000);
});
