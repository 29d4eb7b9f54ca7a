import { appendFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Agent } from '../../agent/agent.js';
import { agentConfigSchema } from '../../agent/config.js';
import { Collector } from '../../collector/collector.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { validateConfig } from '../../shared/config/load.js';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { createLogger } from '../../shared/telemetry/logger.js';
import { SummaryDisplay, formatSummary, readPipelineSummary, type PipelineSummary } from './demo-summary.js';
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

/**
 * Prints the file sink's records as they land, so the terminal shows the end of the pipeline. Reads are chained,
 * never concurrent; `stop` reads what is left, so after the collector stopped every record has been printed.
 */
function followRecords(path: string, display: SummaryDisplay): { stop(): Promise<void> } {
  let offset = 0;
  let partial = '';
  const buffer = Buffer.alloc(1024 * 1024);
  // A character cut by the end of one read is completed by the next.
  const decoder = new StringDecoder('utf8');
  const readNew = async (): Promise<void> => {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
        partial = lines.pop() ?? '';
        const printed = lines.map((line) => {
          const record = JSON.parse(line) as LogRecord;
          // The id's first half is its scope (agent and file), the same for every line of the log; the rest differs.
          return `record ${record.id.slice(-12)} ${record.resource['host.name']} ${String(record.attributes['log.file.name'])}: ${record.body}\n`;
        });
        if (printed.length > 0) display.print(printed.join(''));
      }
    } finally {
      await handle.close();
    }
  };
  let reading = Promise.resolve();
  const readNext = () => {
    reading = reading.then(readNew).catch((error: unknown) => display.print(`demo: reading ${path} failed: ${String(error)}\n`, process.stderr));
    return reading;
  };
  const timer = setInterval(() => void readNext(), 250);
  return {
    stop: () => {
      clearInterval(timer);
      return readNext();
    },
  };
}

/** Redraws the summary every second on a terminal; elsewhere a plain line every 5 s is enough to follow along. */
const SUMMARY_INTERVAL_MS = { tty: 1_000, plain: 5_000 } as const;

/** The webhook notifier printing alerts here; the summary counts what it delivered. */
const ALERT_NOTIFIER = 'terminal';

/** Shows the processes' own counts under the records, until stopped; reads are chained, never concurrent. */
function showLiveSummary(display: SummaryDisplay, read: () => Promise<PipelineSummary>, intervalMs: number): () => Promise<void> {
  let showing = Promise.resolve();
  const timer = setInterval(() => {
    // A read that fails (a registry mid-collection) only skips one redraw; the next one tries again.
    showing = showing.then(async () => display.showSummary(formatSummary(await read()))).catch(() => undefined);
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await showing;
  };
}

/**
 * After the agent stopped: waits until the collector has normalized every line the agent read and fetched all
 * there is in the raw topics, so the summary at stop and the records printed agree. Bounded: a collector that
 * cannot catch up must not hold the demo open.
 */
async function waitForCollector(read: () => Promise<PipelineSummary>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const summary = await read();
    if (summary.logRecords >= summary.linesRead && summary.consumerLag === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
async function startAlertPrinter(display: SummaryDisplay): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { alerts } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: AlertRecord[] };
      display.print(alerts.map((alert) => `alert ${alert.state} ${alert.labels.alertname ?? ''}: ${alert.annotations.summary ?? ''}\n`).join(''));
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
  const tty = process.stdout.isTTY;
  const display = new SummaryDisplay(process.stdout, tty);
  // On a terminal, log lines go above the summary too, or its redraw would erase them.
  const logger = createLogger(
    'tributary-demo',
    process.env.TRIBUTARY_LOG_LEVEL ?? 'warn',
    tty ? { write: (line: string) => display.print(line, process.stderr) } : undefined,
  );
  const workDir = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
  const logDir = join(workDir, 'logs');
  await mkdir(logDir, { recursive: true });
  display.print(`demo: working in ${workDir}\ndemo: starting a local Kafka broker (first run resolves jars from Maven Central; this can take a minute)\n`);
  const kafka = await startLocalKafka();
  display.print(`demo: Kafka ${kafka.version} on ${kafka.brokers.join(',')}\n`);
  const kafkaConfig = { brokers: kafka.brokers };
  const recordsFile = join(workDir, 'records.ndjson');
  const rulesFile = join(workDir, 'rules.yaml');
  await writeFile(rulesFile, DEMO_RULES);
  const alertPrinter = await startAlertPrinter(display);
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
          notifiers: { [ALERT_NOTIFIER]: { type: 'webhook', url: alertPrinter.url } },
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
  const records = followRecords(recordsFile, display);
  display.print(
    `demo: agent metrics ${agent.telemetryUrl}/metrics, collector metrics ${collector.telemetryUrl}/metrics\n` +
      `demo: appending to ${join(logDir, 'shop.log')}; records land in tributary.logs and ${recordsFile}\n` +
      `demo: host metrics and the collector's own metrics every 10 s land in tributary.metrics\n` +
      `demo: rule InventoryErrors (${rulesFile}) fires in about 20 s; alerts land in tributary.alerts and print here\n` +
      `demo: the summary (${tty ? 'under the records, redrawn every second' : 'a line every 5 s'}) counts from the agent's and the collector's own metrics\n` +
      `demo: Ctrl-C to stop\n`,
  );
  const readSummary = () => readPipelineSummary(agent.metrics.registry, collector.metrics.registry, ALERT_NOTIFIER);
  const stopSummary = showLiveSummary(display, readSummary, tty ? SUMMARY_INTERVAL_MS.tty : SUMMARY_INTERVAL_MS.plain);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  display.print('demo: stopping\n');
  await stopSummary();
  await stopWriter();
  await agent.stop();
  if (!(await waitForCollector(readSummary, 15_000))) display.print('demo: the collector had not caught up with the agent after 15 s; stopping it anyway\n');
  await collector.stop();
  await records.stop();
  display.showSummary(formatSummary(await readSummary()), 'summary at stop');
  display.release();
  alertPrinter.server.closeAllConnections();
  alertPrinter.server.close();
  await kafka.stop();
  await rm(workDir, { recursive: true, force: true });
  display.print('demo: stopped cleanly\n');
  return 0;
}
