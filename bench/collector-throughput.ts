/**
 * Collector throughput, raw topic → parse + normalize → normalized topic on a
 * real broker, for three kinds of lines (JSON app logs, nginx combined access
 * lines, RFC 3164 syslog) with 1 and 2 workers (`tributary collector --workers N`).
 *
 *   npm run build && npm run bench:collector      # BENCH_EVENTS=500000 raw events per kind
 *   BENCH_EVENTS=200000 npm run bench:collector   # smaller
 *   KAFKA_BROKERS=host:9092 npm run bench:collector
 *
 * The raw events are produced first, as frames of 2,000 events spread evenly
 * over a 4-partition raw topic; each run then gets a fresh consumer group and
 * output topic and is timed from the collector's start until the workers'
 * `tributary_component_sent_events_total{component_id="normalized"}` add up to
 * every event. CPU seconds and peak RSS are read from /proc for the collector
 * processes only (with --workers 1 the CLI process itself; otherwise the
 * supervisor's children, without the supervisor). Prints a table and appends
 * one JSON line per run to bench/results/collector-throughput.ndjson.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createParser } from '../collector/processors/parse/create-parser.js';
import type { ParseRuleConfig } from '../collector/processors/parse/parse-rules.js';
import { parserSchema } from '../collector/processors/parse/config.js';
import { encodeEvents } from '../shared/frame/frame-codec.js';
import { createKafkaClient, type KafkaClient } from '../shared/kafka/client.js';
import type { RawLogEvent } from '../shared/record/raw-event.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import {
  appendResults,
  benchBrokers,
  childPids,
  machine,
  printTable,
  procStats,
  randomPort,
  sentEvents,
  sleep,
  spawnCli,
  stopProcess,
  type ProcStats,
} from './lib/harness.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 500_000);
const EVENTS_PER_FRAME = 2_000;
const FRAMES_PER_REQUEST = 8;
const RAW_PARTITIONS = 4;
/** BENCH_WORKERS=1 or BENCH_KINDS=json narrow a run; BENCH_STEP_EVENTS sets input.max_step_events to compare step sizes. */
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const STEP_EVENTS = process.env.BENCH_STEP_EVENTS === undefined ? undefined : Number(process.env.BENCH_STEP_EVENTS);
/** A run that has not finished by then is reported as a failure rather than waited on forever. */
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 15 * 60_000);

interface LineKind {
  name: string;
  parser: ParseRuleConfig['parser'];
  line(index: number): string;
}

const PATHS = ['/api/orders', '/api/cart', '/api/users', '/api/search', '/api/checkout', '/api/products'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BASE_TIME = Date.UTC(2026, 10, 23, 12, 0, 0);

function path(index: number): string {
  return `${PATHS[index % PATHS.length] ?? '/api'}/${index % 9973}`;
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

const KINDS: LineKind[] = [
  {
    name: 'json',
    parser: parserSchema.parse({ type: 'json' }),
    line: (index) =>
      JSON.stringify({
        time: new Date(BASE_TIME + index).toISOString(),
        level: index % 50 === 0 ? 'warn' : 'info',
        msg: `request handled ${index}`,
        user_id: index % 541,
        path: path(index),
        duration_ms: (index % 997) / 10,
      }),
  },
  {
    name: 'nginx',
    parser: parserSchema.parse({ type: 'access_log', format: 'nginx_combined' }),
    line: (index) => {
      const time = new Date(BASE_TIME + index * 10);
      const stamp = `${two(time.getUTCDate())}/${MONTHS[time.getUTCMonth()] ?? 'Jan'}/${time.getUTCFullYear()}:${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())} +0000`;
      return `10.0.${index % 256}.${(index >> 8) % 256} - - [${stamp}] "GET ${path(index)}?page=${index % 7} HTTP/1.1" ${index % 20 === 0 ? 404 : 200} ${1000 + (index % 4000)} "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"`;
    },
  },
  {
    name: 'syslog',
    parser: parserSchema.parse({ type: 'syslog', format: 'rfc3164' }),
    line: (index) => {
      const time = new Date(BASE_TIME + index * 10);
      const stamp = `${MONTHS[time.getUTCMonth()] ?? 'Jan'} ${String(time.getUTCDate()).padStart(2, ' ')} ${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())}`;
      return `<30>${stamp} web-${index % 8} app[${1000 + (index % 50)}]: request ${index} ${path(index)} handled in ${index % 250} ms user=u${index % 541}`;
    },
  },
];

function rawEvent(kind: LineKind, index: number): RawLogEvent {
  return {
    id: `bench-${kind.name}-${index}`,
    observed_at: new Date(BASE_TIME + index).toISOString(),
    body: kind.line(index),
    host: `web-${index % 8}`,
    agent_id: 'bench',
    source: { type: 'file', name: kind.name, path: `/var/log/bench/${kind.name}.log`, file_id: '2049:1', offset: index * 200 },
  };
}

/** A bench that measures the parse-error path by mistake would look fast; every kind's lines must parse. */
function checkLinesParse(kind: LineKind): void {
  const parser = createParser(kind.parser);
  for (const index of [0, 1, 255, 999, EVENTS - 1]) {
    const result = parser.parse(kind.line(index));
    if (!result.ok) throw new Error(`bench ${kind.name} line ${index} does not parse: ${result.error}\n${kind.line(index)}`);
  }
}

/** EVENTS raw events of one kind, as frames of EVENTS_PER_FRAME, round-robin over the raw topic's partitions. */
async function produceRawTopic(client: KafkaClient, kind: LineKind, topic: string): Promise<void> {
  await client.topicAdmin().ensureTopics([{ topic, partitions: RAW_PARTITIONS, configs: { 'max.message.bytes': String(8 * 1024 * 1024) } }]);
  const producer = client.messageProducer();
  await producer.connect();
  try {
    let frame = 0;
    let pending: Array<{ partition: number; value: Buffer; headers: Record<string, string> }> = [];
    for (let start = 0; start < EVENTS; start += EVENTS_PER_FRAME) {
      const events = Array.from({ length: Math.min(EVENTS_PER_FRAME, EVENTS - start) }, (_, offset) => rawEvent(kind, start + offset));
      const encoded = encodeEvents('raw.log.v1', events);
      pending.push({ partition: frame++ % RAW_PARTITIONS, value: encoded.value, headers: encoded.headers });
      if (pending.length === FRAMES_PER_REQUEST || start + EVENTS_PER_FRAME >= EVENTS) {
        // Frames are zstd already; Kafka-level compression would only spend CPU.
        await producer.send(topic, pending, 'none');
        pending = [];
      }
    }
  } finally {
    await producer.disconnect();
  }
}

interface RunResult {
  seconds: number;
  /** Seconds from start until the first record was acknowledged: process start, group join, first fetch. */
  firstSentSeconds: number;
  cpuSeconds: number;
  /** Sum over the collector processes of each one's peak RSS. */
  peakRssMib: number;
  maxWorkerPeakRssMib: number;
}

async function runCollector(dir: string, brokers: string[], kind: LineKind, rawTopic: string, workers: number): Promise<RunResult> {
  const run = `${kind.name}-w${workers}-${Date.now().toString(36)}`;
  const port = randomPort();
  const config = join(dir, `collector-${run}.yaml`);
  await writeFile(
    config,
    stringify({
      collector: { group_id: `bench-collector-${run}` },
      kafka: { brokers },
      input: { topics: [rawTopic], ...(STEP_EVENTS === undefined ? {} : { max_step_events: STEP_EVENTS }) },
      parsers: [{ match: { source: kind.name }, parser: kind.parser }],
      outputs: { normalized: { type: 'kafka_topics', logs_topic: `bench-normalized-${run}` } },
      dead_letter: { topic: `bench-dlq-${run}` },
      telemetry: { port, log_level: 'warn' },
    }),
  );
  const metricsUrls = Array.from({ length: workers }, (_, index) => `http://127.0.0.1:${port + index}/metrics`);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const collector = spawnCli(['collector', '--config', config, '--workers', String(workers)]);
  const rootPid = collector.pid as number;
  // Cumulative per process, so the last sample of each pid is its total (a restarted worker adds a new pid).
  const stats = new Map<number, ProcStats>();
  let firstSentSeconds: number | undefined;
  let seconds = 0;
  try {
    for (;;) {
      await sleep(100);
      if (collector.exitCode !== null) throw new Error(`collector exited with ${collector.exitCode}`);
      if (elapsed() * 1000 > RUN_TIMEOUT_MS) throw new Error(`collector did not send ${EVENTS} records within ${RUN_TIMEOUT_MS} ms`);
      const pids = workers === 1 ? [rootPid] : await childPids(rootPid);
      for (const pid of pids) {
        const sample = await procStats(pid).catch(() => undefined);
        if (sample) stats.set(pid, sample);
      }
      const sent = (await Promise.all(metricsUrls.map((url) => sentEvents(url, 'normalized')))).reduce((sum, count) => sum + count, 0);
      if (sent > 0 && firstSentSeconds === undefined) firstSentSeconds = elapsed();
      if (sent >= EVENTS) {
        seconds = elapsed();
        break;
      }
    }
  } finally {
    const code = await stopProcess(collector);
    if (code !== 0 && code !== null) process.stderr.write(`bench: collector ${run} exited with ${code}\n`);
  }
  const samples = [...stats.values()];
  return {
    seconds,
    firstSentSeconds: firstSentSeconds ?? seconds,
    cpuSeconds: Number(samples.reduce((sum, sample) => sum + sample.cpuSeconds, 0).toFixed(2)),
    peakRssMib: samples.reduce((sum, sample) => sum + sample.peakRssMib, 0),
    maxWorkerPeakRssMib: Math.max(0, ...samples.map((sample) => sample.peakRssMib)),
  };
}

async function main(): Promise<void> {
  const { brokers, kafka, stop } = await benchBrokers();
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-collector-'));
  const client = createKafkaClient({ brokers, connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'bench');
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const kind of KINDS.filter((candidate) => (process.env.BENCH_KINDS ?? candidate.name).split(',').includes(candidate.name))) {
      checkLinesParse(kind);
      const rawTopic = `bench-raw-${kind.name}-${Date.now().toString(36)}`;
      const producing = process.hrtime.bigint();
      await produceRawTopic(client, kind, rawTopic);
      process.stderr.write(`bench: ${kind.name}: produced ${EVENTS} raw events in ${(Number(process.hrtime.bigint() - producing) / 1e9).toFixed(1)} s\n`);
      let singleWorkerRate: number | undefined;
      for (const workers of WORKER_COUNTS) {
        // Measured stops include the drain, so the previous run's group has left before the next one joins.
        const run = await runCollector(dir, brokers, kind, rawTopic, workers);
        const eventsPerSecond = Math.round(EVENTS / run.seconds);
        if (workers === 1) singleWorkerRate = eventsPerSecond;
        const result = {
          benchmark: 'collector-throughput',
          kind: kind.name,
          parser: kind.parser.type,
          workers,
          date: new Date().toISOString(),
          events: EVENTS,
          raw_partitions: RAW_PARTITIONS,
          events_per_frame: EVENTS_PER_FRAME,
          seconds: Number(run.seconds.toFixed(2)),
          first_sent_seconds: Number(run.firstSentSeconds.toFixed(2)),
          events_per_second: eventsPerSecond,
          events_per_second_per_worker: Math.round(eventsPerSecond / workers),
          // Excludes start-up (process start, group join, first fetch): the rate once records flow.
          steady_events_per_second: Math.round(EVENTS / Math.max(0.001, run.seconds - run.firstSentSeconds)),
          cpu_seconds: run.cpuSeconds,
          cpu_microseconds_per_event: Number(((run.cpuSeconds * 1e6) / EVENTS).toFixed(1)),
          peak_rss_mib: Number(run.peakRssMib.toFixed(1)),
          max_worker_peak_rss_mib: Number(run.maxWorkerPeakRssMib.toFixed(1)),
          speedup_vs_1_worker: workers === 1 || singleWorkerRate === undefined ? null : Number((eventsPerSecond / singleWorkerRate).toFixed(2)),
          kafka,
          ...machine(),
        };
        results.push(result);
        process.stderr.write(
          `bench: ${kind.name} × ${workers} worker(s): ${eventsPerSecond} events/s (${run.seconds.toFixed(1)} s, first record after ${run.firstSentSeconds.toFixed(1)} s)\n`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await stop();
  }
  printTable(
    ['kind', 'workers', 'events/s', 'per worker', 'steady events/s', 'CPU s', 'peak RSS MiB', '2-worker speed-up'],
    results.map((result) => [
      result.kind,
      result.workers,
      result.events_per_second,
      result.events_per_second_per_worker,
      result.steady_events_per_second,
      result.cpu_seconds,
      result.peak_rss_mib,
      result.speedup_vs_1_worker ?? '—',
    ]),
  );
  await appendResults('collector-throughput.ndjson', results);
}

await main();
