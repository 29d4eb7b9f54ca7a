import { createServer } from 'node:http';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka, type LocalKafkaSecurity } from '../../deploy/dev/kafka/local-kafka.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import { bodiesInTopic, checkpointOffsets, checkpointsAtEnd, writeLogFiles } from '../helpers/agent-run.js';
import { collectRawEvents, messageCount, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, metricValue, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * The built agent and collector (real processes) through a broker's SASL_SSL listener with SCRAM-SHA-512 and
 * a CA of its own, the password in a mounted-secret file: every line arrives, and an agent with a wrong
 * password stays up, not ready, names kafka.sasl, and loses nothing. The broker is this file's own (the
 * shared one has no secured listeners); assertions read through its plaintext listener, independent of the
 * code under test.
 */
const LINES = 2_000;
const APPENDS = 4;

function lineText(index: number): string {
  return `2026-12-07T17:00:00.000Z INFO secured request ${index} GET /api/orders/${index * 7} status=200`;
}

function securedKafka(security: LocalKafkaSecurity, passwordFile: string): Record<string, unknown> {
  return {
    brokers: security.saslSslBrokers,
    tls: { enabled: true, ca_file: security.caFile },
    sasl: { mechanism: 'scram-sha-512', username: security.username, password_file: passwordFile },
  };
}

async function readyStatus(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/readyz`)).status;
}

describe('file → agent → SASL_SSL SCRAM-SHA-512 broker → collector → normalized topic (real processes)', () => {
  let kafka: LocalKafka | undefined;
  let dir: string;
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;
  let refused: RunningProcess | undefined;
  let refusedCollector: RunningProcess | undefined;
  let scraper: RunningProcess | undefined;
  const rawTopic = uniqueName('secured-raw');
  const logsTopic = uniqueName('secured-logs');
  let recordsFile: string;

  beforeAll(async () => {
    kafka = await startLocalKafka({ secure: true });
    const security = kafka.security as LocalKafkaSecurity;
    dir = await mkdtemp(join(tmpdir(), 'tributary-e2e-secured-'));
    const passwordFile = join(dir, 'kafka-password');
    await writeFile(passwordFile, `${security.password}\n`, { mode: 0o600 });
    const logFile = join(dir, 'logs', 'app.log');
    recordsFile = join(dir, 'out', 'records.ndjson');
    const agentPort = await freePort();
    const collectorPort = await freePort();
    const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'secured-agent', data_dir: join(dir, 'agent-data'), checkpoint_interval: '200ms' },
      kafka: securedKafka(security, passwordFile),
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
      framer: { linger: '50ms' },
      output: { topic: rawTopic, partitions: 2 },
      telemetry: { port: agentPort },
    });
    const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: uniqueName('secured-group') },
      kafka: securedKafka(security, passwordFile),
      input: { topics: [rawTopic] },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic, partitions: 2 }, local: { type: 'file', path: recordsFile } },
      dead_letter: { topic: uniqueName('secured-dlq') },
      telemetry: { port: collectorPort },
    });
    await mkdir(join(dir, 'logs'), { recursive: true });
    await appendFile(logFile, '');
    collector = startCli('collector', collectorConfig);
    agent = startCli('agent', agentConfig);
    await waitUntilReady(collector, `http://127.0.0.1:${collectorPort}`);
    await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`);
    for (let batch = 0; batch < APPENDS; batch++) {
      const start = batch * (LINES / APPENDS);
      await appendFile(logFile, Array.from({ length: LINES / APPENDS }, (_, index) => `${lineText(start + index)}\n`).join(''));
    }
    await waitFor(
      `${LINES} records in the file sink`,
      async () => (await readFile(recordsFile, 'utf8').catch(() => '')).split('\n').length - 1 >= LINES || undefined,
      120_000,
      250,
    );
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await collector?.stop('SIGKILL');
    await refused?.stop('SIGKILL');
    await refusedCollector?.stop('SIGKILL');
    await scraper?.stop('SIGKILL');
    await kafka?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers every line exactly once, in order, through the secured listener', async () => {
    const records = (await readFile(recordsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogRecord);
    expect(records.map((record) => record.body)).toEqual(Array.from({ length: LINES }, (_, index) => lineText(index)));
    // The file sink and the normalized topic are written in parallel; the file can be complete first.
    await waitFor(`${LINES} records in ${logsTopic}`, async () => ((await messageCount(logsTopic, kafka?.brokers)) >= LINES ? true : undefined), 60_000);
    expect(await messageCount(logsTopic, kafka?.brokers)).toBe(LINES);
    expect(await agent?.stop('SIGTERM')).toBe(0);
    expect(await collector?.stop('SIGTERM')).toBe(0);
  });

  it('an agent with a wrong password stays alive and not ready, names kafka.sasl, reads nothing, and ships everything once the secret file is fixed', async () => {
    const security = kafka?.security as LocalKafkaSecurity;
    const wrongPasswordFile = join(dir, 'wrong-password');
    await writeFile(wrongPasswordFile, 'not-the-Pa55word\n', { mode: 0o600 });
    const logDir = join(dir, 'refused-logs');
    const dataDir = join(dir, 'refused-data');
    await mkdir(logDir);
    const { paths, lines } = await writeLogFiles(logDir, 2, 500, 'refused');
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const topic = uniqueName('refused-raw');
    const config = (passwordFile: string) => ({
      agent: { id: 'refused-agent', data_dir: dataDir, checkpoint_interval: '200ms' },
      kafka: securedKafka(security, passwordFile),
      sources: { app: { type: 'file', include: [join(logDir, '*.log')], poll_interval: '100ms' } },
      output: { topic, partitions: 1, retry: { max_backoff: '1s' } },
      telemetry: { port, listen_address: '127.0.0.1' },
    });
    refused = startCli('agent', await writeYaml(join(dir, 'refused-agent.yaml'), config(wrongPasswordFile)));
    const refusals = () =>
      (refused?.stderr() ?? '')
        .split('\n')
        .filter(
          (line) =>
            line.includes('"msg":"Kafka refused the connection; not ready, files wait unread until it accepts"') &&
            line.includes("Kafka refused the client's credentials: check kafka.sasl (SASL SCRAM SHA512 authentication failed: "),
        ).length;
    // Three refusals: it retried twice after the first, so it neither exited nor gave up.
    await waitFor('three refused attempts', () => (refusals() >= 3 ? true : undefined), 60_000);
    expect(refused.child.exitCode).toBeNull();
    expect(await readyStatus(baseUrl)).toBe(503);
    expect(refused.stderr()).not.toContain('not-the-Pa55word');
    // One line per attempt, ours: kafkajs' own error lines about the same refusal are debug.
    expect(
      refused
        .stderr()
        .split('\n')
        .filter((line) => line.includes('"component":"kafkajs"') && line.includes('authentication failed')),
    ).toEqual([]);
    // Nothing was acknowledged, so no checkpoint moved: every line is still to be read.
    const offsets = await checkpointOffsets(dataDir).catch(() => new Map<string, number>());
    expect(paths.map((path) => offsets.get(path) ?? 0)).toEqual([0, 0]);

    // The operator fixes the mounted secret; no restart: the next attempt reads it, and every line arrives, once.
    await writeFile(wrongPasswordFile, `${security.password}\n`);
    await waitUntilReady(refused, baseUrl, 30_000);
    await waitFor('checkpoints at the end of both files', async () => ((await checkpointsAtEnd(dataDir, paths)) ? true : undefined), 60_000);
    const bodies = await bodiesInTopic(topic, kafka?.brokers);
    expect(bodies.length).toBe(lines.size);
    expect(new Set(bodies)).toEqual(lines);
  });
  it('a collector with a wrong password stays alive and not ready, naming kafka.sasl on every attempt, and starts once the secret is fixed', async () => {
    const security = kafka?.security as LocalKafkaSecurity;
    const wrongPasswordFile = join(dir, 'collector-wrong-password');
    await writeFile(wrongPasswordFile, 'not-the-Pa55word\n', { mode: 0o600 });
    const port = await freePort();
    const config = await writeYaml(join(dir, 'refused-collector.yaml'), {
      collector: { group_id: uniqueName('refused-group') },
      kafka: securedKafka(security, wrongPasswordFile),
      input: { topics: [uniqueName('refused-in')] },
      outputs: { local: { type: 'file', path: join(dir, 'refused-out.ndjson') } },
      dead_letter: { topic: uniqueName('refused-dlq') },
      retry: { max_backoff: '1s' },
      telemetry: { port, listen_address: '127.0.0.1' },
    });
    refusedCollector = startCli('collector', config);
    const refusals = () =>
      (refusedCollector?.stderr() ?? '')
        .split('\n')
        .filter(
          (line) =>
            line.includes('"msg":"Kafka refused the connection; not ready, retrying"') &&
            line.includes("Kafka refused the client's credentials: check kafka.sasl (SASL SCRAM SHA512 authentication failed: "),
        ).length;
    await waitFor('three refused attempts', () => (refusals() >= 3 ? true : undefined), 60_000);
    expect(refusedCollector.child.exitCode).toBeNull();
    expect(await readyStatus(`http://127.0.0.1:${port}`)).toBe(503);
    expect(refusedCollector.stderr()).not.toContain('not-the-Pa55word');
    // Fixing the mounted secret is enough: the collector finishes its start without a restart.
    await writeFile(wrongPasswordFile, `${security.password}\n`);
    await waitUntilReady(refusedCollector, `http://127.0.0.1:${port}`, 60_000);
  });
  it('an agent scraping with a wrong password spools every scrape, and once fixed delivers each exactly once, in order', async () => {
    const security = kafka?.security as LocalKafkaSecurity;
    let served = 0;
    const target = createServer((_request, response) => {
      served++;
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE scrape_number gauge\nscrape_number ${served}\n`);
    });
    const targetPort = await freePort();
    await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', resolve));
    try {
      const wrongPasswordFile = join(dir, 'scraper-wrong-password');
      await writeFile(wrongPasswordFile, 'not-the-Pa55word\n', { mode: 0o600 });
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const topic = uniqueName('refused-metrics');
      const config = (name: string, passwordFile: string) =>
        writeYaml(join(dir, `${name}.yaml`), {
          agent: { id: 'refused-scraper', data_dir: join(dir, 'scraper-data'), shutdown_timeout: '10s' },
          kafka: securedKafka(security, passwordFile),
          sources: {
            numbered: {
              type: 'prometheus_scrape',
              scrape_configs: [
                { job_name: 'numbered', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] },
              ],
            },
          },
          metrics_output: { topic, partitions: 1, retry: { max_backoff: '1s' }, drain_timeout: '1s' },
          telemetry: { port, listen_address: '127.0.0.1' },
        });
      scraper = startCli('agent', await config('scraper-wrong', wrongPasswordFile));
      const refusals = () =>
        (scraper?.stderr() ?? '')
          .split('\n')
          .filter((line) => line.includes('"msg":"Kafka refused the connection; spooling metrics until it accepts"') && line.includes('check kafka.sasl'))
          .length;
      await waitFor('four scrapes and two refusals', () => (served >= 4 && refusals() >= 2 ? true : undefined), 60_000);
      expect(scraper.child.exitCode).toBeNull();
      const queued = metricValue(await (await fetch(`${baseUrl}/metrics`)).text(), 'tributary_component_queued_events', { component_id: 'metrics_kafka' });
      expect(queued).toBeGreaterThan(0);
      // A metrics-only agent is ready while it spools: its disk spool is the buffer (by design, as with Kafka away).
      expect(await readyStatus(baseUrl)).toBe(200);
      expect(await scraper.stop('SIGTERM')).toBe(0);

      scraper = startCli('agent', await config('scraper-fixed', join(dir, 'kafka-password')));
      await waitUntilReady(scraper, baseUrl);
      await waitFor(
        'the spool to drain',
        async () =>
          metricValue(await (await fetch(`${baseUrl}/metrics`)).text(), 'tributary_component_queued_events', { component_id: 'metrics_kafka' }) === 0
            ? true
            : undefined,
        60_000,
      );
      expect(await scraper.stop('SIGTERM')).toBe(0);
      const total = served;
      const events = await collectRawEvents<RawMetricEvent>(
        topic,
        (all) => all.some((event) => event.name === 'scrape_number' && Number(event.value) === total),
        60_000,
        kafka?.brokers,
      );
      // Replays carry their ids; count each id once.
      const distinct = [...new Map(events.map((event) => [event.id, event])).values()];
      const numbers = distinct.filter((event) => event.name === 'scrape_number').map((event) => Number(event.value));
      expect(numbers).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
