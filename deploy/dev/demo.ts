import { appendFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../agent/agent.js';
import { agentConfigSchema } from '../../agent/config.js';
import { Collector } from '../../collector/collector.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { validateConfig } from '../../shared/config/load.js';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { createLogger } from '../../shared/telemetry/logger.js';
import { startLocalKafka } from './kafka/local-kafka.js';

const SAMPLE_LINES = [
  'GET /api/orders/{id} 200 12ms user=alice',
  'POST /api/checkout 201 87ms user=bob cart_items=3',
  'WARN payment gateway slow: 1450ms for charge ch_{id}',
  'GET /healthz 200 1ms',
  'ERROR inventory lookup failed for sku=SKU-{id}: connection reset by peer',
  'INFO cache refreshed entries={id}',
];

/** Appends a plausible application log line every `intervalMs`, like a service would. */
function startLogWriter(path: string, intervalMs: number): () => Promise<void> {
  let sequence = 0;
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    sequence++;
    const template = SAMPLE_LINES[sequence % SAMPLE_LINES.length] as string;
    const line = `${new Date().toISOString()} ${template.replaceAll('{id}', String(1000 + sequence))}\n`;
    writing = writing.then(() => appendFile(path, line));
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await writing;
  };
}

/** Prints the file sink's records as they land, so the terminal shows the end of the pipeline. */
function followRecords(path: string): () => void {
  let offset = 0;
  let partial = '';
  const timer = setInterval(() => {
    void (async () => {
      const handle = await open(path, 'r').catch(() => undefined);
      if (!handle) return;
      try {
        const buffer = Buffer.alloc(1024 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        offset += bytesRead;
        const lines = (partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const record = JSON.parse(line) as LogRecord;
          process.stdout.write(
            `record ${record.id.slice(0, 12)} ${record.resource['host.name']} ${String(record.attributes['log.file.name'])}: ${record.body}\n`,
          );
        }
      } finally {
        await handle.close();
      }
    })();
  }, 250);
  return () => clearInterval(timer);
}

/** One alert rule on the generated log, so the demo shows alerting too: the inventory errors come every 3 s. */
const DEMO_RULES = `groups:
  - name: demo
    interval: 5s
    rules:
      - alert: InventoryErrors
        logs: { body_contains: 'inventory lookup failed' }
        window: 10s
        condition: '> 2'
        annotations: { summary: '{{ $value }} inventory lookup failures in 10s' }
`;

/** A webhook receiver that prints the alerts the collector sends it, as an on-call tool would show them. */
async function startAlertPrinter(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { alerts } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: AlertRecord[] };
      for (const alert of alerts) process.stdout.write(`alert ${alert.state} ${alert.labels.alertname ?? ''}: ${alert.annotations.summary ?? ''}\n`);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, server };
}

/**
 * `tributary demo`: a local Kafka broker from Maven Central jars, an agent
 * tailing a generated log, and a collector writing normalized records to the
 * Kafka topic and a local NDJSON file and alerting on the log's errors, until Ctrl-C.
 */
export async function runDemo(): Promise<number> {
  const logger = createLogger('tributary-demo', process.env.TRIBUTARY_LOG_LEVEL ?? 'warn');
  const workDir = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
  const logDir = join(workDir, 'logs');
  await mkdir(logDir, { recursive: true });
  process.stdout.write(
    `demo: working in ${workDir}\ndemo: starting a local Kafka broker (first run resolves jars from Maven Central; this can take a minute)\n`,
  );
  const kafka = await startLocalKafka();
  process.stdout.write(`demo: Kafka ${kafka.version} on ${kafka.brokers.join(',')}\n`);
  const kafkaConfig = { brokers: kafka.brokers };
  const recordsFile = join(workDir, 'records.ndjson');
  const rulesFile = join(workDir, 'rules.yaml');
  await writeFile(rulesFile, DEMO_RULES);
  const alertPrinter = await startAlertPrinter();
  const collector = new Collector(
    validateConfig(
      collectorConfigSchema,
      {
        kafka: kafkaConfig,
        collector: { group_id: 'tributary-demo', shutdown_timeout: '10s' },
        outputs: { normalized: { type: 'kafka_topics' }, local: { type: 'file', path: recordsFile } },
        // Metric records go to tributary.metrics only, so the terminal shows the log records.
        routes: [{ match: { record: 'metrics' }, outputs: ['normalized'] }],
        alerting: {
          rules_files: [rulesFile],
          evaluation_delay: '5s',
          notifiers: { terminal: { type: 'webhook', url: alertPrinter.url } },
        },
        telemetry: { port: 0 },
      },
      'demo collector config',
    ),
    logger.child({ process: 'collector' }),
  );
  await collector.start();
  const collectorAddress = new URL(collector.telemetryUrl ?? 'http://127.0.0.1:0').host;
  const agent = new Agent(
    validateConfig(
      agentConfigSchema,
      {
        agent: { id: 'demo-agent', data_dir: join(workDir, 'agent-data'), shutdown_timeout: '10s' },
        kafka: kafkaConfig,
        sources: {
          app: { type: 'file', include: [join(logDir, '*.log')], labels: { 'service.name': 'demo-shop' } },
          host: { type: 'host_metrics', interval: '10s' },
          // The collector's own /metrics, scraped like any Prometheus target.
          self: {
            type: 'prometheus_scrape',
            scrape_configs: [{ job_name: 'tributary-collector', scrape_interval: '10s', static_configs: [{ targets: [collectorAddress] }] }],
          },
        },
        telemetry: { port: 0 },
      },
      'demo agent config',
    ),
    logger.child({ process: 'agent' }),
  );
  await agent.start();
  const stopWriter = startLogWriter(join(logDir, 'shop.log'), 500);
  const stopFollowing = followRecords(recordsFile);
  process.stdout.write(
    `demo: agent metrics ${agent.telemetryUrl}/metrics, collector metrics ${collector.telemetryUrl}/metrics\n` +
      `demo: appending to ${join(logDir, 'shop.log')}; records land in tributary.logs and ${recordsFile}\n` +
      `demo: host metrics and the collector's own metrics every 10 s land in tributary.metrics\n` +
      `demo: rule InventoryErrors (${rulesFile}) fires in about 20 s; alerts land in tributary.alerts and print here\ndemo: Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stdout.write('\ndemo: stopping\n');
  await stopWriter();
  await agent.stop();
  // Let the collector pick up the last frames before it stops.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await collector.stop();
  stopFollowing();
  alertPrinter.server.closeAllConnections();
  alertPrinter.server.close();
  await kafka.stop();
  await rm(workDir, { recursive: true, force: true });
  process.stdout.write('demo: stopped cleanly\n');
  return 0;
}
