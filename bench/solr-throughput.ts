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
import { startLocalSolr } from '../deploy/dev/solr/local-solr.js';
import { benchBrokers } from './lib/harness.js';
import { runSearchSinkBench } from './lib/sink-bench.js';

const COLLECTION = process.env.SOLR_COLLECTION ?? 'tributary';

/** Documents of this run: each run has its own service.name. */
async function count(url: string, service: string): Promise<number> {
  const query = new URLSearchParams({ q: `resource.service.name_s:${service}`, rows: '0', wt: 'json' });
  const response = await fetch(`${url}/${COLLECTION}/select?${query.toString()}`);
  if (!response.ok) return 0;
  return ((await response.json()) as { response: { numFound: number } }).response.numFound;
}

const kafka = await benchBrokers();
const external = process.env.SOLR_URL;
const solr = external === undefined ? await startLocalSolr({ cores: [COLLECTION] }) : undefined;
const url = external ?? solr?.url ?? '';
try {
  await runSearchSinkBench({
    bench: 'solr-throughput',
    tag: 'solr',
    lines: Number(process.env.BENCH_LINES ?? 200_000),
    kafka,
    output: { type: 'solr', endpoints: [url], collection: COLLECTION },
    count: (service) => count(url, service),
    server: { solr: solr ? `local solr ${solr.version}` : 'external' },
  });
} finally {
  await solr?.stop();
  await kafka.stop();
}
