/**
 * Scrape-to-produce latency: how long after a scrape starts its events are
 * readable from Kafka, for targets of 1k, 10k and 100k series, through the
 * real agent (CLI process, disk spool with fsync) and a real broker.
 *
 *   npm run build && npm run bench:scrape
 *   BENCH_SCRAPES=10 BENCH_SERIES=1000,10000 npm run bench:scrape
 *
 * A local HTTP target serves a fixed exposition; the agent scrapes it every
 * second. A consumer reads the raw metrics topic and, for each scrape,
 * records when the frame holding the scrape's `up` series (the last events of
 * a scrape) arrived, minus the scrape's start (`observed_at`). That includes
 * the consumer's fetch wait (at most 50 ms here), so it is an upper bound.
 * Also reports the agent's CPU and peak RSS. Appends to
 * bench/results/scrape-latency.ndjson.
 */
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { stringify } from 'yaml';
import { decodeFrame } from '../shared/frame/frame-codec.js';
import { flattenHeaders } from '../shared/kafka/consumer.js';
import type { RawMetricEvent } from '../shared/record/raw-event.js';
import { appendResults, benchBrokers, machine, printTable, procStats, randomPort, sleep, spawnCli, stopProcess } from './lib/harness.js';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 20);
const SERIES_COUNTS = (process.env.BENCH_SERIES ?? '1000,10000,100000').split(',').map(Number);

function exposition(series: number): string {
  const lines: string[] = ['# HELP bench_requests_total Requests.', '# TYPE bench_requests_total counter'];
  for (let index = 0; index < series; index++) {
    lines.push(`bench_requests_total{service="svc-${index % 50}",route="/api/v1/items/${index}",code="${200 + (index % 5)}"} ${index * 17}`);
  }
  return `${lines.join('\n')}\n`;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(brokers: string[], series: number): Promise<Record<string, unknown>> {
  const body = exposition(series);
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body));
  const targetPort = randomPort();
  await new Promise<void>((resolve) => server.listen(targetPort, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-scrape-'));
  const topic = `bench-scrape-${series}-${Date.now()}`;
  const metricsPort = randomPort() + 1000;
  const configFile = join(dir, 'agent.yaml');
  await writeFile(
    configFile,
    stringify({
      agent: { id: 'bench-scrape', data_dir: join(dir, 'data') },
      kafka: { brokers },
      sources: {
        target: {
          type: 'prometheus_scrape',
          scrape_configs: [{ job_name: 'bench', scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }],
        },
      },
      framer: { linger: '20ms' },
      metrics_output: { topic, partitions: 1 },
      telemetry: { port: metricsPort, log_level: 'warn' },
    }),
  );
  const kafka = new kafkajs.Kafka({ clientId: 'bench-scrape', brokers, logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 50 });
  const latencies: number[] = [];
  const agent = spawnCli(['agent', '--config', configFile]);
  try {
    // The agent creates the topic; subscribe once it exists.
    const admin = kafka.admin();
    await admin.connect();
    for (let tries = 0; !(await admin.listTopics()).includes(topic); tries++) {
      if (tries > 600) throw new Error(`topic ${topic} never appeared`);
      await sleep(100);
    }
    await admin.disconnect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const arrived = Date.now();
        for (const event of decodeFrame(message.value, flattenHeaders(message.headers)).events as RawMetricEvent[]) {
          if (event.name === 'up') latencies.push(arrived - Date.parse(event.observed_at));
        }
        return Promise.resolve();
      },
    });
    while (latencies.length < SCRAPES) await sleep(500);
    const { cpuSeconds, peakRssMib } = await procStats(agent.pid as number);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      series,
      scrapes: latencies.length,
      p50_ms: percentile(sorted, 50),
      p99_ms: percentile(sorted, 99),
      max_ms: sorted.at(-1),
      agent_cpu_s: Number(cpuSeconds.toFixed(2)),
      agent_peak_rss_mib: Math.round(peakRssMib),
    };
  } finally {
    await consumer.disconnect();
    await stopProcess(agent);
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const kafka = await benchBrokers();
try {
  const results: Array<Record<string, unknown>> = [];
  for (const series of SERIES_COUNTS) results.push(await run(kafka.brokers, series));
  printTable(
    ['series/scrape', 'scrapes', 'p50 ms', 'p99 ms', 'max ms', 'agent CPU s', 'peak RSS MiB'],
    results.map((result) => [result.series, result.scrapes, result.p50_ms, result.p99_ms, result.max_ms, result.agent_cpu_s, result.agent_peak_rss_mib]),
  );
  const stamp = { bench: 'scrape-latency', at: new Date().toISOString(), kafka: kafka.kafka, ...machine() };
  await appendResults(
    'scrape-latency.ndjson',
    results.map((result) => ({ ...stamp, ...result })),
  );
} finally {
  await kafka.stop();
}
