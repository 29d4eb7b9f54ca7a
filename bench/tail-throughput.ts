/**
 * Tail throughput of the agent, file → raw topic on a real broker, in four
 * scenarios (200-byte and 2 KiB lines; one file and 100 files), next to the
 * same bytes produced by `kcat -P` (librdkafka, zstd, acks=all) as the ceiling
 * of this machine and broker.
 *
 *   npm run build && npm run bench            # BENCH_BYTES=200MiB of lines per scenario
 *   BENCH_MIB=50 npm run bench                # smaller
 *   KAFKA_BROKERS=host:9092 npm run bench     # an existing cluster
 *
 * The agent runs as its own process; CPU seconds and peak RSS are read from
 * /proc for that process only. Prints a table and appends one JSON line per
 * scenario to bench/results/tail-throughput.ndjson.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createKafkaClient } from '../shared/kafka/client.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import { appendResults, benchBrokers, machine, printTable, procStats, randomPort, sentEvents, sleep, spawnCli, stopProcess } from './lib/harness.js';

const MIB_PER_SCENARIO = Number(process.env.BENCH_MIB ?? 200);

interface Scenario {
  name: string;
  lineBytes: number;
  files: number;
}

const SCENARIOS: Scenario[] = [
  { name: '200B × 1 file', lineBytes: 200, files: 1 },
  { name: '2KiB × 1 file', lineBytes: 2048, files: 1 },
  { name: '200B × 100 files', lineBytes: 200, files: 100 },
  { name: '2KiB × 100 files', lineBytes: 2048, files: 100 },
];

function line(index: number, bytes: number): string {
  const head = `2026-11-23T12:00:00.${String(index % 1000).padStart(3, '0')}Z INFO [worker-${index % 16}] request ${index} GET /api/orders/${index % 9973} status=200 user=u${index % 541} `;
  return `${head.padEnd(bytes - 1, 'abcdefghij'.repeat(Math.ceil(bytes / 10)).slice(0, bytes))}\n`;
}

/** Writes the scenario's lines spread over its files; returns the line count and the concatenation's path for kcat. */
async function writeInput(dir: string, scenario: Scenario): Promise<{ lines: number; allLines: string }> {
  const lines = Math.floor((MIB_PER_SCENARIO * 1024 * 1024) / scenario.lineBytes);
  const handles = await Promise.all(Array.from({ length: scenario.files }, (_, index) => open(join(dir, 'logs', `input-${index}.log`), 'w')));
  const allLines = join(dir, 'all-lines.txt');
  const all = await open(allLines, 'w');
  try {
    const perChunk = 2000;
    for (let start = 0; start < lines; start += perChunk) {
      const chunks: string[] = Array.from({ length: scenario.files }, () => '');
      let joined = '';
      for (let index = start; index < Math.min(lines, start + perChunk); index++) {
        const text = line(index, scenario.lineBytes);
        chunks[index % scenario.files] = (chunks[index % scenario.files] ?? '') + text;
        joined += text;
      }
      await Promise.all(handles.flatMap((handle, index) => (chunks[index] ? [handle.write(chunks[index])] : [])));
      await all.write(joined);
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
    await all.close();
  }
  return { lines, allLines };
}

async function runAgent(dir: string, brokers: string[], lines: number): Promise<{ seconds: number; cpuSeconds: number; peakRssMib: number }> {
  const port = randomPort();
  const config = join(dir, 'agent.yaml');
  await writeFile(
    config,
    stringify({
      agent: { id: 'bench', data_dir: join(dir, 'data') },
      kafka: { brokers },
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
      output: { topic: `bench-agent-${Date.now().toString(36)}`, partitions: 4 },
      telemetry: { port, log_level: 'warn' },
    }),
  );
  const started = process.hrtime.bigint();
  const agent = spawnCli(['agent', '--config', config]);
  const pid = agent.pid as number;
  let stats = { cpuSeconds: 0, peakRssMib: 0 };
  for (;;) {
    await sleep(100);
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    stats = await procStats(pid);
    if ((await sentEvents(`http://127.0.0.1:${port}/metrics`, 'app')) >= lines) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await stopProcess(agent);
  return { seconds, ...stats };
}

async function runKcat(brokers: string[], file: string): Promise<number> {
  const topic = `bench-kcat-${Date.now().toString(36)}`;
  const client = createKafkaClient({ brokers, connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'bench');
  await client.topicAdmin().ensureTopics([{ topic, partitions: 4 }]);
  const started = process.hrtime.bigint();
  const result = spawnSync(
    'kcat',
    ['-P', '-b', brokers.join(','), '-t', topic, '-z', 'zstd', '-X', 'acks=all', '-X', 'linger.ms=100', '-X', 'batch.size=1000000', '-l', file],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (result.status !== 0) throw new Error(`kcat failed: ${result.stderr.toString()}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const { brokers, kafka, stop } = await benchBrokers();
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const scenario of SCENARIOS) {
      const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
      try {
        await mkdir(join(dir, 'logs'));
        const { lines, allLines } = await writeInput(dir, scenario);
        const mib = (lines * scenario.lineBytes) / 1024 / 1024;
        const agent = await runAgent(dir, brokers, lines);
        const kcatSeconds = await runKcat(brokers, allLines);
        const result = {
          benchmark: 'tail-throughput',
          scenario: scenario.name,
          date: new Date().toISOString(),
          lines,
          mib: Number(mib.toFixed(1)),
          agent_lines_per_second: Math.round(lines / agent.seconds),
          agent_mib_per_second: Number((mib / agent.seconds).toFixed(1)),
          agent_cpu_seconds: agent.cpuSeconds,
          agent_peak_rss_mib: Number(agent.peakRssMib.toFixed(1)),
          kcat_lines_per_second: Math.round(lines / kcatSeconds),
          agent_to_kcat_ratio: Number((kcatSeconds / agent.seconds).toFixed(2)),
          kafka,
          ...machine(),
        };
        results.push(result);
        process.stderr.write(`bench: ${scenario.name}: agent ${result.agent_lines_per_second} lines/s, kcat ${result.kcat_lines_per_second} lines/s\n`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await stop();
  }
  printTable(
    ['scenario', 'lines', 'agent lines/s', 'agent MiB/s', 'agent CPU s', 'agent peak RSS MiB', 'kcat lines/s', 'agent/kcat'],
    results.map((result) => [
      result.scenario,
      result.lines,
      result.agent_lines_per_second,
      result.agent_mib_per_second,
      result.agent_cpu_seconds,
      result.agent_peak_rss_mib,
      result.kcat_lines_per_second,
      result.agent_to_kcat_ratio,
    ]),
  );
  await appendResults('tail-throughput.ndjson', results);
}

await main();
