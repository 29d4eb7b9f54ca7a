import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { RawLogEvent } from '../../shared/record/raw-event.js';
import { eventId } from '../../shared/record/event-id.js';
import { fingerprintOfPath } from '../../agent/sources/file/file-identity.js';
import { brokers, messageCount, readTopic, uniqueName, waitFor } from '../helpers/kafka.js';
import { logRecordErrors } from '../helpers/schemas.js';
import { freePort, metricValue, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

const LINES = 10_000;
const APPENDS = 10;
const AGENT_ID = 'e2e-agent';

function lineText(index: number): string {
  return `2026-11-23T12:00:00.000Z INFO request ${index} GET /api/orders/${index * 7} status=200 bytes=${(index * 131) % 9000} ü`;
}

async function httpText(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

describe('file → agent → Kafka → collector → normalized topic (real broker, real processes)', () => {
  let dir: string;
  let logFile: string;
  const rawTopic = uniqueName('e2e-raw');
  const logsTopic = uniqueName('e2e-logs');
  const dlqTopic = uniqueName('e2e-dlq');
  // Undefined only when start-up failed; afterAll must still clean up what did start.
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;
  let agentUrl: string;
  let collectorUrl: string;
  let recordsFile: string;
  let fileId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-e2e-'));
    logFile = join(dir, 'logs', 'app.log');
    recordsFile = join(dir, 'out', 'records.ndjson');
    const agentPort = await freePort();
    const collectorPort = await freePort();
    agentUrl = `http://127.0.0.1:${agentPort}`;
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: AGENT_ID, data_dir: join(dir, 'agent-data'), checkpoint_interval: '200ms' },
      kafka: { brokers: brokers() },
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')], labels: { 'service.name': 'e2e-shop' } } },
      framer: { linger: '50ms' },
      output: { topic: rawTopic, partitions: 3 },
      telemetry: { port: agentPort },
    });
    const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: uniqueName('e2e-group') },
      kafka: { brokers: brokers() },
      input: { topics: [rawTopic] },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic, partitions: 3 }, local: { type: 'file', path: recordsFile } },
      dead_letter: { topic: dlqTopic },
      telemetry: { port: collectorPort },
    });
    await mkdir(join(dir, 'logs'), { recursive: true });
    await appendFile(logFile, '');
    collector = startCli('collector', collectorConfig);
    agent = startCli('agent', agentConfig);
    await waitUntilReady(collector, collectorUrl);
    await waitUntilReady(agent, agentUrl);
    for (let batch = 0; batch < APPENDS; batch++) {
      const start = batch * (LINES / APPENDS);
      const chunk = Array.from({ length: LINES / APPENDS }, (_, index) => `${lineText(start + index)}\n`).join('');
      await appendFile(logFile, chunk);
    }
    // The file's identity is its first line's fingerprint, known once that line exists.
    fileId = (await fingerprintOfPath(logFile)) as string;
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
  });

  it('delivers every line exactly once, in order, with ids derived from file identity and offset', async () => {
    const records = (await readFile(recordsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogRecord);
    expect(records).toHaveLength(LINES);
    let offset = 0;
    records.forEach((record, index) => {
      expect(record.body).toBe(lineText(index));
      expect(record.id).toBe(eventId(AGENT_ID, fileId, offset));
      expect(record.attributes['log.record.offset']).toBe(offset);
      offset += Buffer.byteLength(lineText(index)) + 1;
    });
    expect(records[0]).toMatchObject({
      schema: 'tributary.log.v1',
      severity_number: 0,
      attributes: { 'log.file.path': logFile, 'log.file.name': 'app.log', 'tributary.source.name': 'app' },
      resource: { 'service.name': 'e2e-shop', 'tributary.agent.id': AGENT_ID },
    });

    expect(await messageCount(logsTopic)).toBe(LINES);
    const published = await readTopic(logsTopic, LINES);
    const byPartition = new Map<number, LogRecord[]>();
    for (const message of published) {
      const record = JSON.parse(message.value.toString()) as LogRecord;
      byPartition.set(message.partition, [...(byPartition.get(message.partition) ?? []), record]);
    }
    // One file's records share a resource, hence a key, hence one partition, in file order.
    expect(byPartition.size).toBe(1);
    const inTopic = [...byPartition.values()][0] ?? [];
    expect(inTopic.map((record) => record.id)).toEqual(records.map((record) => record.id));
    expect(await messageCount(dlqTopic)).toBe(0);
  });

  it('counts the events in and out on both processes', async () => {
    const agentMetrics = await httpText(`${agentUrl}/metrics`);
    expect(metricValue(agentMetrics, 'tributary_component_received_events_total', { component_id: 'app' })).toBe(LINES);
    expect(metricValue(agentMetrics, 'tributary_component_sent_events_total', { component_id: 'app' })).toBe(LINES);
    expect(metricValue(agentMetrics, 'tributary_component_sent_events_total', { component_id: 'kafka', component_kind: 'sink' })).toBe(LINES);
    expect(metricValue(agentMetrics, 'tributary_process_resident_memory_bytes')).toBeGreaterThan(0);
    const collectorMetrics = await httpText(`${collectorUrl}/metrics`);
    expect(metricValue(collectorMetrics, 'tributary_component_received_events_total', { component_id: 'normalize' })).toBe(LINES);
    expect(metricValue(collectorMetrics, 'tributary_component_sent_events_total', { component_id: 'normalized' })).toBe(LINES);
    expect(metricValue(collectorMetrics, 'tributary_component_sent_events_total', { component_id: 'local' })).toBe(LINES);
    expect(() => metricValue(collectorMetrics, 'tributary_component_discarded_events_total')).toThrow(/no sample/);
    expect((await fetch(`${collectorUrl}/healthz`)).status).toBe(200);
  });

  it('publishes standard Kafka zstd that librdkafka (kcat) reads unaided', () => {
    const output = execFileSync('kcat', ['-b', brokers().join(','), '-C', '-t', logsTopic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], {
      maxBuffer: 256 * 1024 * 1024,
    }).toString();
    const records = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogRecord);
    expect(records).toHaveLength(LINES);
    // What a non-JavaScript consumer reads validates against the published schema, record by record.
    for (const record of records) expect(logRecordErrors(record)).toBeUndefined();
    expect(new Set(records.map((record) => record.body))).toEqual(new Set(Array.from({ length: LINES }, (_, index) => lineText(index))));
  });

  it('writes raw frames that kcat + the zstd CLI turn back into NDJSON raw events', () => {
    const kcat = ['-b', brokers().join(','), '-C', '-t', rawTopic, '-o', 'beginning', '-e', '-q'];
    const headers = execFileSync('kcat', [...kcat, '-c', '1', '-f', '%h']).toString();
    expect(headers).toContain('tributary.schema=raw.log.v1');
    expect(headers).toContain('content-encoding=zstd');
    const frame = execFileSync('kcat', [...kcat, '-c', '1', '-f', '%s']);
    const ndjson = execFileSync('zstd', ['-d', '-c'], { input: frame }).toString();
    const events = ndjson
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RawLogEvent);
    expect(events.length).toBe(Number(/tributary\.event-count=(\d+)/.exec(headers)?.[1]));
    expect(events[0]).toMatchObject({
      id: eventId(AGENT_ID, fileId, 0),
      body: lineText(0),
      agent_id: AGENT_ID,
      source: { type: 'file', path: logFile, offset: 0 },
    });
  });

  it('drains on SIGTERM: exits 0 with the checkpoint at the end of the file', async () => {
    expect(await agent?.stop('SIGTERM')).toBe(0);
    expect(await collector?.stop('SIGTERM')).toBe(0);
    const checkpoints = JSON.parse(await readFile(join(dir, 'agent-data', 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
    expect(checkpoints.files[fileId]?.offset).toBe((await stat(logFile)).size);
  });
});
