/**
 * Files → agent → Kafka → collector → Solr (a local Solr 9 unless SOLR_URL is
 * set, with a core `tributary` made from deploy/dev/solr/configset), through
 * the real processes:
 *
 *   npm run build && npm run bench:solr
 *   BENCH_LINES=100000 npm run bench:solr
 *
 * Throughput: BENCH_LINES (default 200,000) 200-byte lines are written before
 * the agent starts; timed from the collector's start until Solr's count of the
 * run's documents equals them. Latency: then 1,000 lines/s for 20 s in batches
 * of 100 every 100 ms; each batch's latency is the time from its write until
 * the count (polled every 100 ms, which bounds the resolution) covers it, so
 * it includes the sink's commitWithin (1 s, the default) that makes documents
 * searchable. Collector CPU and peak RSS from /proc. Appends to
 * bench/results/solr-throughput.ndjson.
 */
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startLocalSolr } from '../deploy/dev/solr/local-solr.js';
import { appendResults, benchBrokers, machine, printTable, procStats, randomPort, sleep, spawnCli, stopProcess } from './lib/harness.js';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const LATENCY_SECONDS = 20;
const BATCH_LINES = 100;
const BATCH_INTERVAL_MS = 100;
const COLLECTION = process.env.SOLR_COLLECTION ?? 'tributary';

/** Documents of this run: each run has its own service.name. */
async function count(url: string, service: string): Promise<number> {
  const query = new URLSearchParams({ q: `resource.service.name_s:${service}`, rows: '0', wt: 'json' });
  const response = await fetch(`${url}/${COLLECTION}/select?${query.toString()}`);
  if (!response.ok) return 0;
  return ((await response.json()) as { response: { numFound: number } }).response.numFound;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function lines(from: number, count_: number): string {
  let text = '';
  for (let index = from; index < from + count_; index++) text += `${new Date().toISOString()} INFO bench line ${index} ${'p'.repeat(150)}\n`;
  return text;
}

const kafka = await benchBrokers();
const external = process.env.SOLR_URL;
const solr = external === undefined ? await startLocalSolr({ cores: [COLLECTION] }) : undefined;
const url = external ?? solr?.url ?? '';
const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-solr-'));
try {
  await mkdir(join(dir, 'logs'));
  const logFile = join(dir, 'logs', 'bench.log');
  const service = `bench${Date.now()}`;
  const rawTopic = `bench-solr-raw-${Date.now()}`;
  const [agentPort, collectorPort] = [randomPort(), randomPort() + 1000];
  await writeFile(
    join(dir, 'agent.yaml'),
    stringify({
      agent: { id: 'bench-solr', data_dir: join(dir, 'agent-data') },
      kafka: { brokers: kafka.brokers },
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')], labels: { 'service.name': service } } },
      framer: { linger: '20ms' },
      output: { topic: rawTopic, partitions: 4 },
      telemetry: { port: agentPort, log_level: 'warn' },
    }),
  );
  await writeFile(
    join(dir, 'collector.yaml'),
    stringify({
      collector: { group_id: `bench-solr-${Date.now()}` },
      kafka: { brokers: kafka.brokers },
      input: { topics: [rawTopic] },
      outputs: { search: { type: 'solr', endpoints: [url], collection: COLLECTION } },
      telemetry: { port: collectorPort, log_level: 'warn' },
    }),
  );
  await appendFile(logFile, lines(0, LINES));
  const collector = spawnCli(['collector', '--config', join(dir, 'collector.yaml')]);
  const started = Date.now();
  const agent = spawnCli(['agent', '--config', join(dir, 'agent.yaml')]);
  for (let indexed = 0; indexed < LINES; indexed = await count(url, service)) {
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
    const indexed = await count(url, service);
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
  const stamp = {
    bench: 'solr-throughput',
    at: new Date().toISOString(),
    kafka: kafka.kafka,
    solr: solr ? `local solr ${solr.version}` : 'external',
    ...machine(),
  };
  await appendResults('solr-throughput.ndjson', [{ ...stamp, ...result }]);
} finally {
  await rm(dir, { recursive: true, force: true });
  await solr?.stop();
  await kafka.stop();
}
