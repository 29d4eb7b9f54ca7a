/**
 * Files → agent → Kafka → collector → HDFS over WebHDFS (a local
 * hadoop-client-minicluster 3.5.0 unless HDFS_NAMENODE_URL is set), through
 * the real processes, once per file format:
 *
 *   npm run build && npm run bench:hdfs
 *   BENCH_LINES=50000 BENCH_FORMATS=gzip,zstd npm run bench:hdfs
 *
 * Throughput: BENCH_LINES (default 200,000) ~190-byte lines (a random request id each) in 4 files (so 4
 * source partitions) are written before the agent starts; timed from the
 * collector's start until its sink reports every record durably written
 * (`tributary_component_sent_events_total`: write() resolved, i.e. appended
 * and renamed in HDFS). Size: after a SIGTERM (which finishes every open
 * file) the bytes of the finished files in HDFS, per record, beside the
 * record's NDJSON size. Collector CPU and peak RSS from /proc. Appends to
 * bench/results/hdfs-throughput.ndjson.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebHdfsClient } from '../collector/outputs/hdfs/webhdfs-client.js';
import { startLocalHdfs } from '../deploy/dev/hdfs/local-hdfs.js';
import { appendResults, benchBrokers, machine, printTable, procStats, sentEvents, sleep, stopProcess } from './lib/harness.js';
import { writeFilePipeline } from './lib/sink-bench.js';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const FILES = 4;
const FORMATS = (process.env.BENCH_FORMATS ?? 'gzip,zstd,none').split(',') as Array<'gzip' | 'zstd' | 'none'>;

function lines(file: number, count: number): string {
  let text = '';
  for (let index = 0; index < count; index++)
    // A request id and a latency per line, so the lines compress like real logs rather than like padding.
    text += `${new Date().toISOString()} INFO bench file ${file} line ${index} request=${randomBytes(8).toString('hex')} took=${index % 997}ms ${'p'.repeat(100)}\n`;
  return text;
}

/** Bytes and count of the files under `dir` that readers see (no segment starting with '_' or '.'). */
async function visibleBytes(client: WebHdfsClient, dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of (await client.listStatus(dir)) ?? []) {
    if (entry.pathSuffix.startsWith('_') || entry.pathSuffix.startsWith('.')) continue;
    if (entry.type === 'DIRECTORY') {
      const below = await visibleBytes(client, `${dir}/${entry.pathSuffix}`);
      bytes += below.bytes;
      files += below.files;
    } else {
      bytes += entry.length;
      files++;
    }
  }
  return { bytes, files };
}

const kafka = await benchBrokers();
const external = process.env.HDFS_NAMENODE_URL;
const hdfs = external === undefined ? await startLocalHdfs() : undefined;
const namenode = external ?? hdfs?.namenodeUrl ?? '';
const client = new WebHdfsClient({ namenodes: [namenode], user: 'tributary', requestTimeoutMs: 30_000 });
const rows: Array<Record<string, unknown>> = [];
try {
  for (const compression of FORMATS) {
    const dir = await mkdtemp(join(tmpdir(), `tributary-bench-hdfs-${compression}-`));
    try {
      const stamp = Date.now();
      const base = `/bench-${stamp}-${compression}`;
      const pipeline = await writeFilePipeline(dir, {
        agentId: `bench-hdfs-${stamp}`,
        brokers: kafka.brokers,
        service: 'bench',
        rawTopic: `bench-hdfs-raw-${stamp}`,
        partitions: FILES,
        groupId: `bench-hdfs-${stamp}`,
        outputs: {
          lake: { type: 'hdfs', namenodes: [namenode], path: `${base}/{service.name}/dt={yyyy-MM-dd}/hr={HH}`, compression, auth: { user: 'tributary' } },
        },
      });
      let rawBytes = 0;
      for (let file = 0; file < FILES; file++) {
        const text = lines(file, LINES / FILES);
        rawBytes += Buffer.byteLength(text);
        await appendFile(join(pipeline.logsDir, `bench-${file}.log`), text);
      }
      const { collector, agent, started } = pipeline.start();
      const metricsUrl = `http://127.0.0.1:${pipeline.collectorPort}/metrics`;
      for (let written = 0; written < LINES; written = await sentEvents(metricsUrl, 'lake')) {
        if (process.env.BENCH_VERBOSE) process.stderr.write(`${compression}: ${written} written after ${Date.now() - started} ms\n`);
        await sleep(200);
      }
      const seconds = (Date.now() - started) / 1000;
      const stats = await procStats(collector.pid as number);
      await stopProcess(agent);
      // SIGTERM: the sink finishes every open file before the collector exits.
      await stopProcess(collector);
      const { bytes, files } = await visibleBytes(client, base);
      rows.push({
        format: `ndjson${compression === 'none' ? '' : `+${compression}`}`,
        lines: LINES,
        seconds: Number(seconds.toFixed(1)),
        records_per_s: Math.round(LINES / seconds),
        hdfs_files: files,
        hdfs_bytes_per_record: Number((bytes / LINES).toFixed(1)),
        // The normalized record's JSON, for comparison: what an uncompressed line costs.
        line_bytes_per_record: Number((rawBytes / LINES).toFixed(1)),
        collector_cpu_s: Number(stats.cpuSeconds.toFixed(1)),
        collector_peak_rss_mib: Math.round(stats.peakRssMib),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  printTable(
    ['format', 'lines', 'seconds', 'records/s', 'HDFS files', 'HDFS bytes/record', 'log line bytes', 'collector CPU s', 'collector peak RSS MiB'],
    rows.map((row) => [
      row.format,
      row.lines,
      row.seconds,
      row.records_per_s,
      row.hdfs_files,
      row.hdfs_bytes_per_record,
      row.line_bytes_per_record,
      row.collector_cpu_s,
      row.collector_peak_rss_mib,
    ]),
  );
  const stamp = {
    bench: 'hdfs-throughput',
    at: new Date().toISOString(),
    kafka: kafka.kafka,
    hdfs: hdfs ? `local hadoop-client-minicluster ${hdfs.version}` : 'external',
    ...machine(),
  };
  await appendResults(
    'hdfs-throughput.ndjson',
    rows.map((row) => ({ ...stamp, ...row })),
  );
} finally {
  client.close();
  await hdfs?.stop();
  await kafka.stop();
}
