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
import { spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startLocalKafka, type LocalKafka } from '../deploy/dev/kafka/local-kafka.js';
import { createKafkaClient } from '../shared/kafka/client.js';
import { ensureTopicsWith } from '../shared/kafka/topics.js';
import { PROCESS_NODE_FLAGS } from '../shared/cli/node-flags.js';
import { packageRoot } from '../shared/paths.js';
import { silentLogger } from '../shared/telemetry/logger.js';

const MIB_PER_SCENARIO = Number(process.env.BENCH_MIB ?? 200);
const CLI = join(packageRoot(), 'dist', 'shared', 'cli', 'tributary.js');
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ, fixed at 100 on every mainstream architecture

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

async function procStats(pid: number): Promise<{ cpuSeconds: number; peakRssMib: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
    peakRssMib: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024,
  };
}

async function sentEvents(metricsUrl: string): Promise<number> {
  const text = await fetch(metricsUrl).then(
    (response) => response.text(),
    () => '',
  );
  const sample = text
    .split('\n')
    .find((candidate) => candidate.startsWith('tributary_component_sent_events_total') && candidate.includes('component_id="app"'));
  return sample ? Number(sample.slice(sample.lastIndexOf(' ') + 1)) : 0;
}

async function runAgent(dir: string, brokers: string[], lines: number): Promise<{ seconds: number; cpuSeconds: number; peakRssMib: number }> {
  const port = 19_000 + Math.floor(Math.random() * 1000);
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
  const agent = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, 'agent', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = agent.pid as number;
  let stats = { cpuSeconds: 0, peakRssMib: 0 };
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    stats = await procStats(pid);
    if ((await sentEvents(`http://127.0.0.1:${port}/metrics`)) >= lines) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  return { seconds, ...stats };
}

async function runKcat(brokers: string[], file: string): Promise<number> {
  const topic = `bench-kcat-${Date.now().toString(36)}`;
  const client = createKafkaClient({ brokers, connection_timeout: 10_000, request_timeout: 30_000 }, silentLogger(), 'bench');
  await ensureTopicsWith(client, [{ topic, partitions: 4 }]);
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
  let kafka: LocalKafka | undefined;
  let brokers = process.env.KAFKA_BROKERS?.split(',');
  if (!brokers) {
    kafka = await startLocalKafka();
    brokers = kafka.brokers;
  }
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
          kafka: kafka ? `local ${kafka.version}` : 'external',
          node: process.version,
          cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
        };
        results.push(result);
        process.stderr.write(`bench: ${scenario.name}: agent ${result.agent_lines_per_second} lines/s, kcat ${result.kcat_lines_per_second} lines/s\n`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await kafka?.stop();
  }
  const header = '| scenario | lines | agent lines/s | agent MiB/s | agent CPU s | agent peak RSS MiB | kcat lines/s | agent/kcat |';
  const rows = results.map(
    (result) =>
      `| ${String(result.scenario)} | ${String(result.lines)} | ${String(result.agent_lines_per_second)} | ${String(result.agent_mib_per_second)} | ${String(result.agent_cpu_seconds)} | ${String(result.agent_peak_rss_mib)} | ${String(result.kcat_lines_per_second)} | ${String(result.agent_to_kcat_ratio)} |`,
  );
  process.stdout.write(`${[header, '|---|---|---|---|---|---|---|---|', ...rows].join('\n')}\n`);
  await mkdir(join(packageRoot(), 'bench', 'results'), { recursive: true });
  await appendFile(join(packageRoot(), 'bench', 'results', 'tail-throughput.ndjson'), results.map((result) => `${JSON.stringify(result)}\n`).join(''));
}

await main();
