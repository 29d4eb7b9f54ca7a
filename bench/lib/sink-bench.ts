/**
 * The part of the sink benches (Elasticsearch, Solr, HDFS) that is the same
 * whatever the sink: files → agent → Kafka → collector through the compiled
 * CLI, and for the search sinks the whole throughput-then-latency run, with
 * only "how many documents does the server hold" and the output's config
 * differing.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { appendResults, machine, printTable, procStats, randomPort, sleep, spawnCli, stopProcess, type BenchBrokers } from './harness.js';

export interface FilePipelineOptions {
  readonly agentId: string;
  readonly brokers: readonly string[];
  /** The `service.name` label of every line. */
  readonly service: string;
  readonly rawTopic: string;
  readonly partitions: number;
  readonly groupId: string;
  /** The collector's `outputs`. */
  readonly outputs: Record<string, unknown>;
}

export interface FilePipeline {
  /** Where the agent tails `*.log`. */
  readonly logsDir: string;
  readonly collectorPort: number;
  /** Starts the collector, then the agent; `started` is taken in between, which is when the benches' clock starts. */
  start(): { collector: ChildProcess; agent: ChildProcess; started: number };
}

/** Writes agent.yaml and collector.yaml into `dir` (and creates `dir`/logs). */
export async function writeFilePipeline(dir: string, options: FilePipelineOptions): Promise<FilePipeline> {
  const logsDir = join(dir, 'logs');
  await mkdir(logsDir);
  // Apart, so the agent's and the collector's metrics ports do not collide.
  const [agentPort, collectorPort] = [randomPort(), randomPort() + 1000];
  await writeFile(
    join(dir, 'agent.yaml'),
    stringify({
      agent: { id: options.agentId, data_dir: join(dir, 'agent-data') },
      kafka: { brokers: options.brokers },
      sources: { app: { type: 'file', include: [join(logsDir, '*.log')], labels: { 'service.name': options.service } } },
      framer: { linger: '20ms' },
      output: { topic: options.rawTopic, partitions: options.partitions },
      telemetry: { port: agentPort, log_level: 'warn' },
    }),
  );
  await writeFile(
    join(dir, 'collector.yaml'),
    stringify({
      collector: { group_id: options.groupId },
      kafka: { brokers: options.brokers },
      input: { topics: [options.rawTopic] },
      outputs: options.outputs,
      telemetry: { port: collectorPort, log_level: 'warn' },
    }),
  );
  return {
    logsDir,
    collectorPort,
    start: () => {
      const collector = spawnCli(['collector', '--config', join(dir, 'collector.yaml')]);
      const started = Date.now();
      const agent = spawnCli(['agent', '--config', join(dir, 'agent.yaml')]);
      return { collector, agent, started };
    },
  };
}

const LATENCY_SECONDS = 20;
const BATCH_LINES = 100;
const BATCH_INTERVAL_MS = 100;

export interface SearchBenchOptions {
  /** `elasticsearch-throughput`: the result's `bench` and its NDJSON file's name. */
  readonly bench: string;
  /** Short name in temp dirs, topics, the agent id and the group id. */
  readonly tag: string;
  readonly lines: number;
  readonly kafka: BenchBrokers;
  /** The collector's output `search`. */
  readonly output: Record<string, unknown>;
  /** Documents of this run the server can search; every run has its own `service`. */
  readonly count: (service: string) => Promise<number>;
  /** Recorded with the result: which server it ran against. */
  readonly server: Record<string, string>;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function lines(from: number, count: number): string {
  let text = '';
  for (let index = from; index < from + count; index++) text += `${new Date().toISOString()} INFO bench line ${index} ${'p'.repeat(150)}\n`;
  return text;
}

/**
 * Throughput: `lines` 200-byte lines written before the agent starts, timed
 * from the collector's start until `count` equals them. Latency: then 1,000
 * lines/s for 20 s in batches of 100 every 100 ms; a batch's latency is from
 * its write until `count` (polled every 100 ms, which bounds the resolution)
 * covers it. Prints the table and appends to bench/results/<bench>.ndjson.
 */
export async function runSearchSinkBench(options: SearchBenchOptions): Promise<void> {
  const { kafka, count } = options;
  const LINES = options.lines;
  const dir = await mkdtemp(join(tmpdir(), `tributary-bench-${options.tag}-`));
  try {
    const service = `bench${Date.now()}`;
    const pipeline = await writeFilePipeline(dir, {
      agentId: `bench-${options.tag}`,
      brokers: kafka.brokers,
      service,
      rawTopic: `bench-${options.tag}-raw-${Date.now()}`,
      partitions: 4,
      groupId: `bench-${options.tag}-${Date.now()}`,
      outputs: { search: options.output },
    });
    const logFile = join(pipeline.logsDir, 'bench.log');
    await appendFile(logFile, lines(0, LINES));
    const { collector, agent, started } = pipeline.start();
    for (let indexed = 0; indexed < LINES; indexed = await count(service)) {
      if (process.env.BENCH_VERBOSE) process.stderr.write(`indexed ${indexed} after ${Date.now() - started} ms\n`);
      await sleep(200);
    }
    const seconds = (Date.now() - started) / 1000;
    const afterThroughput = await procStats(collector.pid as number);

    // Latency at a steady 1,000 lines/s.
    const batches: Array<{ writtenAt: number; total: number }> = [];
    let total = LINES;
    const latencies: number[] = [];
    let pending = 0;
    const writer = (async () => {
      for (let batch = 0; batch < (LATENCY_SECONDS * 1000) / BATCH_INTERVAL_MS; batch++) {
        await appendFile(logFile, lines(total, BATCH_LINES));
        total += BATCH_LINES;
        batches.push({ writtenAt: Date.now(), total });
        await sleep(BATCH_INTERVAL_MS);
      }
    })();
    const writing = { done: false };
    void writer.then(() => (writing.done = true));
    while (!writing.done || pending < batches.length) {
      const indexed = await count(service);
      const now = Date.now();
      while (pending < batches.length && (batches[pending]?.total ?? Infinity) <= indexed) {
        latencies.push(now - (batches[pending]?.writtenAt ?? now));
        pending++;
      }
      await sleep(100);
    }
    const stats = await procStats(collector.pid as number);
    await stopProcess(agent);
    await stopProcess(collector);
    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      lines: LINES,
      seconds: Number(seconds.toFixed(1)),
      docs_per_s: Math.round(LINES / seconds),
      collector_cpu_s: Number(afterThroughput.cpuSeconds.toFixed(1)),
      collector_peak_rss_mib: Math.round(stats.peakRssMib),
      latency_p50_ms: percentile(sorted, 50),
      latency_p99_ms: percentile(sorted, 99),
      latency_batches: sorted.length,
    };
    printTable(
      ['lines', 'seconds', 'docs/s', 'collector CPU s', 'collector peak RSS MiB', 'p50 ms', 'p99 ms'],
      [[result.lines, result.seconds, result.docs_per_s, result.collector_cpu_s, result.collector_peak_rss_mib, result.latency_p50_ms, result.latency_p99_ms]],
    );
    const stamp = { bench: options.bench, at: new Date().toISOString(), kafka: kafka.kafka, ...options.server, ...machine() };
    await appendResults(`${options.bench}.ndjson`, [{ ...stamp, ...result }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
