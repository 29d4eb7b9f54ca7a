import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import { brokers, collectRawEvents, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';
import { queryPrometheus, sampleSeriesOf, seriesId, startNodeExporter, startPrometheus, type RunningServer } from '../helpers/prometheus.js';

/**
 * The scraper against the real thing: Tributary and a real Prometheus scrape
 * the same real node_exporter at the same time, and the series Tributary
 * publishes must be exactly the series Prometheus stored.
 */
describe('Prometheus scraping compared with a real Prometheus server', () => {
  let nodeExporter: RunningServer | undefined;
  let prometheus: RunningServer | undefined;
  let agent: RunningProcess | undefined;

  beforeAll(async () => {
    nodeExporter = await startNodeExporter();
    prometheus = await startPrometheus([{ job_name: 'node', static_configs: [{ targets: [nodeExporter.address] }] }]);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop('SIGTERM');
    await prometheus?.stop();
    await nodeExporter?.stop();
  });

  it('publishes the same series as Prometheus stores from the same node_exporter', async () => {
    if (!nodeExporter || !prometheus) throw new Error('servers did not start');
    const dir = await mkdtemp(join(tmpdir(), 'tributary-scrape-'));
    const topic = uniqueName('raw-metrics');
    const port = await freePort();
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'scrape-compare', data_dir: join(dir, 'data') },
      kafka: { brokers: brokers() },
      sources: {
        node: {
          type: 'prometheus_scrape',
          scrape_configs: [{ job_name: 'node', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [nodeExporter.address] }] }],
        },
      },
      metrics_output: { topic, partitions: 1 },
      telemetry: { port },
    });
    agent = startCli('agent', config);
    await waitUntilReady(agent, `http://127.0.0.1:${port}`);

    // Three whole scrapes; a scrape's events share observed_at and end with its synthetic series.
    const scrapes = new Map<string, RawMetricEvent[]>();
    await collectRawEvents<RawMetricEvent>(topic, (events) => {
      scrapes.clear();
      for (const event of events) scrapes.set(event.observed_at, [...(scrapes.get(event.observed_at) ?? []), event]);
      return [...scrapes.values()].filter((scrape) => scrape.some((event) => event.name === 'scrape_series_added')).length >= 3;
    });
    await waitFor('Prometheus to have scraped', async () =>
      (await queryPrometheus(prometheus as RunningServer, 'up{job="node"} == 1')).length === 1 ? true : undefined,
    );

    const complete = [...scrapes.values()].filter((scrape) => scrape.some((event) => event.name === 'scrape_series_added'));
    for (const scrape of complete) {
      expect(scrape.find((event) => event.name === 'up')?.value).toBe(1);
      expect(new Set(scrape.map((event) => event.id)).size).toBe(scrape.length);
    }
    const tributarySeries = new Set(complete.flatMap((scrape) => scrape.flatMap(sampleSeriesOf)));
    const prometheusSeries = new Set(
      (await queryPrometheus(prometheus, '{job="node"}')).map((result) => seriesId(result.metric.__name__ ?? '', result.metric)),
    );

    // Series that come and go between two scrapes (none expected from node_exporter's defaults) would show up here.
    const onlyTributary = [...tributarySeries].filter((series) => !prometheusSeries.has(series));
    const onlyPrometheus = [...prometheusSeries].filter((series) => !tributarySeries.has(series));
    expect({ onlyTributary, onlyPrometheus }).toEqual({ onlyTributary: [], onlyPrometheus: [] });
    expect(tributarySeries.size).toBeGreaterThan(200);

    // A value that cannot change between the two scrapes agrees exactly.
    const memTotal = complete[0]?.find((event) => event.name === 'node_memory_MemTotal_bytes');
    const [prometheusMemTotal] = await queryPrometheus(prometheus, 'node_memory_MemTotal_bytes{job="node"}');
    expect(memTotal?.value).toBe(Number(prometheusMemTotal?.value[1]));
    expect(memTotal?.type).toBe('gauge');
    expect(memTotal?.labels).toEqual({ job: 'node', instance: nodeExporter.address });
    // Both count the exposition's samples the same way.
    const [prometheusSamples] = await queryPrometheus(prometheus, 'scrape_samples_scraped{job="node"}');
    expect(complete.at(-1)?.find((event) => event.name === 'scrape_samples_scraped')?.value).toBe(Number(prometheusSamples?.value[1]));
  }, 120_000);
});
