import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../deploy/dev/kafka/local-kafka.js';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import { collectRawEvents, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, metricValue, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * Scrapes cannot be re-read, so the spool is all that stands between a Kafka
 * outage and lost metrics. Two agents scrape every second through a minute
 * with the broker frozen (SIGSTOP: connections open, no answers): one with a
 * roomy spool, restarted in the middle of the outage, must deliver every
 * scrape in order; one with a tiny spool must drop its oldest frames and
 * count exactly what it dropped.
 */
const OUTAGE_MS = 60_000;
const SERIES_PER_SCRAPE = 40;
/** The target's series plus up, scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added. */
const EVENTS_PER_SCRAPE = SERIES_PER_SCRAPE + 1 + 5;

/** A target that numbers its scrapes, so a gap or a reordering in the topic is visible. */
class NumberedTarget {
  readonly served = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((request, response) => {
      const path = request.url ?? '/';
      const number = (this.served.get(path) ?? 0) + 1;
      this.served.set(path, number);
      let body = '# TYPE scrape_number gauge\nscrape_number ' + String(number) + '\n# TYPE payload gauge\n';
      for (let index = 0; index < SERIES_PER_SCRAPE; index++) body += `payload{index="${index}",text="${'x'.repeat(40)}"} ${number * 1000 + index}\n`;
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function scrapeNumbers(events: readonly RawMetricEvent[], job: string): number[] {
  return events.filter((event) => event.name === 'scrape_number' && event.labels.job === job).map((event) => Number(event.value));
}

describe('metrics spool: a minute without Kafka', () => {
  let kafka: LocalKafka | undefined;
  const agents: RunningProcess[] = [];
  const target = new NumberedTarget();
  afterAll(async () => {
    kafka?.resume();
    await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
    await kafka?.stop();
    await target.stop();
  });

  it('delivers every scrape of the gap in order, across a restart, and counts exactly what a full spool dropped', async () => {
    kafka = await startLocalKafka(); // its own broker: freezing the shared one would stall other test files
    await target.start();
    const dir = await mkdtemp(join(tmpdir(), 'tributary-spool-'));
    const topic = uniqueName('raw-metrics-spool');
    const ports = { roomy: await freePort(), tiny: await freePort() };
    const agentConfig = (name: 'roomy' | 'tiny', spool: Record<string, unknown>) =>
      writeYaml(join(dir, `${name}.yaml`), {
        agent: { id: name, data_dir: join(dir, name), shutdown_timeout: '20s' },
        kafka: { brokers: kafka?.brokers, request_timeout: '5s', connection_timeout: '3s' },
        sources: {
          numbered: {
            type: 'prometheus_scrape',
            scrape_configs: [
              {
                job_name: name,
                scrape_interval: '1s',
                scrape_timeout: '1s',
                static_configs: [{ targets: [`127.0.0.1:${target.port}`] }],
                metrics_path: `/${name}`,
              },
            ],
          },
        },
        metrics_output: { topic, partitions: 1, retry: { max_backoff: '1s' }, drain_timeout: '1s', spool },
        telemetry: { port: ports[name] },
      });
    const roomyConfig = await agentConfig('roomy', {});
    const tinyConfig = await agentConfig('tiny', { max_bytes: '16KiB', segment_bytes: '2KiB' });
    const start = async (config: string, port: number) => {
      const agent = startCli('agent', config);
      agents.push(agent);
      await waitUntilReady(agent, `http://127.0.0.1:${port}`);
      return agent;
    };
    let roomy = await start(roomyConfig, ports.roomy);
    const tiny = await start(tinyConfig, ports.tiny);
    await collectRawEvents<RawMetricEvent>(
      topic,
      (events) => scrapeNumbers(events, 'roomy').length >= 3 && scrapeNumbers(events, 'tiny').length >= 3,
      60_000,
      kafka.brokers,
    );

    kafka.pause();
    const outageStart = Date.now();
    const servedBeforeOutage = target.served.get('/roomy') ?? 0;
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 2));
    // A restart in the middle of the outage: what the spool holds must survive it.
    await roomy.stop('SIGTERM');
    roomy = await start(roomyConfig, ports.roomy);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - outageStart)));
    const scrapedInOutage = (target.served.get('/roomy') ?? 0) - servedBeforeOutage;
    kafka.resume();

    // Both spools empty (nothing unacknowledged in them) before the agents stop; the tiny spool stops dropping once
    // Kafka answers again, so its drop counter is final then.
    const drained = async (port: number): Promise<string> =>
      waitFor(
        `the spool of the agent on ${port} to drain`,
        async () => {
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          return metricValue(text, 'tributary_component_queued_events', { component_id: 'metrics_kafka' }) === 0 ? text : undefined;
        },
        120_000,
      );
    const [tinyMetrics] = await Promise.all([drained(ports.tiny), drained(ports.roomy)]);
    const droppedEvents = metricValue(tinyMetrics, 'tributary_component_discarded_events_total', { component_id: 'metrics_kafka', reason: 'spool_full' });
    await Promise.all([roomy.stop('SIGTERM'), tiny.stop('SIGTERM')]);
    const servedRoomy = target.served.get('/roomy') ?? 0;
    const servedTiny = target.served.get('/tiny') ?? 0;

    const events = await collectRawEvents<RawMetricEvent>(
      topic,
      (all) => scrapeNumbers(all, 'roomy').includes(servedRoomy) && scrapeNumbers(all, 'tiny').includes(servedTiny),
      120_000,
      kafka.brokers,
    );
    // Replays after a restart may repeat a frame; they carry the ids they had, so count each id once.
    const unique = new Map(events.map((event) => [event.id, event]));
    const distinct = [...unique.values()];

    const roomyNumbers = scrapeNumbers(distinct, 'roomy');
    // Scraping went on through the outage, less the seconds of the restart.
    expect(scrapedInOutage).toBeGreaterThan(OUTAGE_MS / 1000 - 15);
    expect(roomyNumbers).toEqual(Array.from({ length: servedRoomy }, (_, index) => index + 1));

    const tinyNumbers = scrapeNumbers(distinct, 'tiny');
    const tinyEvents = distinct.filter((event) => event.labels.job === 'tiny').length;
    expect(droppedEvents).toBeGreaterThan(0);
    expect(tinyEvents + droppedEvents).toBe(servedTiny * EVENTS_PER_SCRAPE);
    // The oldest were dropped: what arrived is the start of the run and an unbroken tail, in order.
    const firstGap = tinyNumbers.findIndex((number, index) => number !== index + 1);
    expect(firstGap).toBeGreaterThan(0);
    const tail = tinyNumbers.slice(firstGap);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, index) => (tail[0] ?? 0) + index));
    expect(tail.at(-1)).toBe(servedTiny);
    expect((servedTiny - tinyNumbers.length) * EVENTS_PER_SCRAPE).toBe(droppedEvents);
  }, 240_000);
});
