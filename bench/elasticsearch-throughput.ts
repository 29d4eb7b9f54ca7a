/**
 * Files → agent → Kafka → collector → Elasticsearch API (a local OpenSearch
 * 2.19 unless ELASTICSEARCH_URL is set), through the real processes:
 *
 *   npm run build && npm run bench:elasticsearch
 *   BENCH_LINES=100000 npm run bench:elasticsearch
 *
 * Throughput: BENCH_LINES (default 200,000) 200-byte lines are written before
 * the agent starts; timed from the collector's start until a `_count` of the
 * data stream equals them. Latency: then 1,000 lines/s for 20 s in batches of
 * 100 every 100 ms; each batch's latency is the time from its write until
 * `_count` (polled every 100 ms, which bounds the resolution) covers it, so it
 * includes the default 1 s refresh interval that makes documents searchable.
 * Collector CPU and peak RSS from /proc. Appends to
 * bench/results/elasticsearch-throughput.ndjson.
 */
import { startLocalOpenSearch } from '../deploy/dev/opensearch/local-opensearch.js';
import { benchBrokers } from './lib/harness.js';
import { runSearchSinkBench } from './lib/sink-bench.js';

async function count(url: string, index: string): Promise<number> {
  const response = await fetch(`${url}/${index}/_count`);
  if (response.status === 404) return 0;
  return ((await response.json()) as { count: number }).count;
}

const kafka = await benchBrokers();
const external = process.env.ELASTICSEARCH_URL;
const search = external === undefined ? await startLocalOpenSearch() : undefined;
const url = external ?? search?.url ?? '';
try {
  await runSearchSinkBench({
    bench: 'elasticsearch-throughput',
    tag: 'es',
    lines: Number(process.env.BENCH_LINES ?? 200_000),
    kafka,
    output: { type: 'elasticsearch', endpoints: [url], data_stream: { dataset: '{resource.service.name}' } },
    // The dataset is the service name, so each run has its own data stream.
    count: (service) => count(url, `logs-${service}-default`),
    server: { search: search ? `local opensearch ${search.version}` : 'external' },
  });
} finally {
  await search?.stop();
  await kafka.stop();
}
