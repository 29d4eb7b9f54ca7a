import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../shared/record/metric-record.js';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';
import { startNodeExporter, type RunningServer } from '../helpers/prometheus.js';
import { metricRecordErrors } from '../helpers/schemas.js';

function kcatLines(args: readonly string[]): string[] {
  return execFileSync('kcat', ['-b', brokers().join(','), '-C', '-o', 'beginning', '-e', '-q', ...args], { maxBuffer: 256 * 1024 * 1024 })
    .toString()
    .split('\n')
    .filter((line) => line !== '');
}

/**
 * Metrics end to end with real processes: a real node_exporter and the host
 * itself → agent → raw metrics topic → collector → tributary.metrics, read
 * back with librdkafka (kcat) and the zstd CLI, as a non-JavaScript consumer
 * would.
 */
describe('scrape and host metrics → agent → Kafka → collector → normalized metrics (real processes)', () => {
  let nodeExporter: RunningServer | undefined;
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await collector?.stop('SIGKILL');
    await nodeExporter?.stop();
  });

  it('publishes every scraped series as a schema-valid tributary.metric.v1 record', async () => {
    nodeExporter = await startNodeExporter();
    const dir = await mkdtemp(join(tmpdir(), 'tributary-metrics-e2e-'));
    const rawTopic = uniqueName('e2e-raw-metrics');
    const metricsTopic = uniqueName('e2e-metrics');
    const [agentPort, collectorPort] = [await freePort(), await freePort()];
    const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'metrics-e2e', host_name: 'e2e-host', data_dir: join(dir, 'agent-data') },
      kafka: { brokers: brokers() },
      sources: {
        node: {
          type: 'prometheus_scrape',
          scrape_configs: [{ job_name: 'node', scrape_interval: '2s', static_configs: [{ targets: [nodeExporter.address] }] }],
        },
        host: { type: 'host_metrics', interval: '2s', collectors: ['cpu', 'memory', 'load'] },
      },
      metrics_output: { topic: rawTopic, partitions: 2 },
      telemetry: { port: agentPort },
    });
    const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: uniqueName('metrics-e2e'), resource: { 'deployment.environment': 'test' } },
      kafka: { brokers: brokers() },
      input: { topics: [rawTopic] },
      outputs: { normalized: { type: 'kafka_topics', metrics_topic: metricsTopic, partitions: 2 } },
      telemetry: { port: collectorPort },
    });
    collector = startCli('collector', collectorConfig);
    agent = startCli('agent', agentConfig);
    await waitUntilReady(collector, `http://127.0.0.1:${collectorPort}`);
    await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`);

    // Two scrapes of each source normalized; then stop the agent so the topics stop growing.
    await waitFor(
      'two scrapes and two collections in tributary.metrics',
      () => {
        const records = kcatLines(['-t', metricsTopic, '-f', '%s\n']).map((line) => JSON.parse(line) as MetricRecord);
        const ups = records.filter((record) => record.name === 'up').length;
        const loads = records.filter(
          (record) => record.name === 'node_load1' && record.resource.job === 'node' && record.resource.instance === 'e2e-host',
        ).length;
        return ups >= 2 && loads >= 2 ? true : undefined;
      },
      60_000,
      500,
    );
    expect(await agent.stop('SIGTERM')).toBe(0);

    // Raw frames are zstd NDJSON, readable with the standard tools: kcat writes the values back to back and
    // zstd decodes concatenated frames.
    const raw = execFileSync('sh', ['-c', `kcat -b ${brokers().join(',')} -C -t ${rawTopic} -o beginning -e -q -f '%s' | zstd -d -c`], {
      maxBuffer: 256 * 1024 * 1024,
    })
      .toString()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as RawMetricEvent);
    const rawIds = new Set(raw.map((event) => event.id));
    expect(rawIds.size).toBe(raw.length);

    const records = await waitFor('every raw event normalized', () => {
      const lines = kcatLines(['-t', metricsTopic, '-f', '%s\n']).map((line) => JSON.parse(line) as MetricRecord);
      return lines.length >= raw.length ? lines : undefined;
    });
    // Exactly one record per raw event, with its id, and every one valid against the published schema.
    expect(records.map((record) => record.id).sort()).toEqual([...rawIds].sort());
    for (const record of records) expect(metricRecordErrors(record), `${record.name} ${record.id}`).toBeUndefined();

    const up = records.find((record) => record.name === 'up');
    expect(up).toMatchObject({
      type: 'gauge',
      prometheus_type: 'gauge',
      value: 1,
      attributes: {},
      resource: {
        job: 'node',
        instance: nodeExporter.address,
        'service.name': 'node',
        'service.instance.id': nodeExporter.address,
        'host.name': 'e2e-host',
        'tributary.agent.id': 'metrics-e2e',
        'deployment.environment': 'test',
      },
    });
    const cpu = records.find(
      (record) => record.name === 'node_cpu_seconds_total' && record.attributes.mode === 'idle' && record.resource.instance === 'e2e-host',
    );
    expect(cpu).toMatchObject({
      type: 'sum',
      prometheus_type: 'counter',
      is_monotonic: true,
      aggregation_temporality: 'cumulative',
      attributes: { cpu: '0', mode: 'idle' },
    });
    // node_exporter's own Go runtime exposes summaries; they arrive whole.
    const summary = records.find((record) => record.type === 'summary');
    expect(summary?.summary?.quantile_values.map((quantile) => quantile.quantile)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(await collector.stop('SIGTERM')).toBe(0);
  }, 180_000);
});
