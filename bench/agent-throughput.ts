/**
 * Agent throughput: lines/s from a pre-written file into a real broker, with
 * the agent's CPU seconds and peak RSS (read from /proc, so they are the agent
 * process's own, not this harness's).
 *
 *   npm run build && npm run bench            # 1M lines of 200 bytes
 *   BENCH_LINES=200000 npm run bench          # smaller
 *   KAFKA_BROKERS=host:9092 npm run bench     # an existing cluster instead of a local broker
 *
 * Prints one JSON line and appends it to bench/results/agent-throughput.ndjson.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startLocalKafka, type LocalKafka } from '../deploy/dev/kafka/local-kafka.js';
import { packageRoot } from '../shared/paths.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const LINE_BYTES = 200;
const CLI = join(packageRoot(), 'dist', 'shared', 'cli', 'tributary.js');
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ, fixed at 100 on every mainstream architecture

async function writeInput(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const linesPerChunk = 10_000;
  try {
    for (let start = 0; start < LINES; start += linesPerChunk) {
      let chunk = '';
      for (let index = start; index < Math.min(LINES, start + linesPerChunk); index++) {
        const head = `2026-11-23T12:00:00.${String(index % 1000).padStart(3, '0')}Z INFO [worker-${index % 16}] request ${index} GET /api/orders/${index % 9973} status=200 user=u${index % 541} `;
        chunk += `${head.padEnd(LINE_BYTES - 1, 'x')}\n`;
      }
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
}

async function procStats(pid: number): Promise<{ cpuSeconds: number; peakRssBytes: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: cpuTicks / CLOCK_TICKS_PER_SECOND, peakRssBytes: peakKb * 1024 };
}

async function sentEvents(metricsUrl: string): Promise<number> {
  const text = await fetch(metricsUrl).then(
    (response) => response.text(),
    () => '',
  );
  const line = text.split('\n').find((candidate) => candidate.startsWith('tributary_component_sent_events_total') && candidate.includes('component_id="app"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
  let kafka: LocalKafka | undefined;
  try {
    const input = join(dir, 'logs', 'input.log');
    await mkdir(join(dir, 'logs'));
    process.stderr.write(`bench: writing ${LINES} lines of ${LINE_BYTES} bytes\n`);
    await writeInput(input);
    let brokers = process.env.KAFKA_BROKERS?.split(',');
    if (!brokers) {
      kafka = await startLocalKafka();
      brokers = kafka.brokers;
    }
    const port = 19_000 + Math.floor(Math.random() * 1000);
    const topic = `bench-raw-${Date.now().toString(36)}`;
    const config = join(dir, 'agent.yaml');
    await writeFile(
      config,
      stringify({
        agent: { id: 'bench', data_dir: join(dir, 'data') },
        kafka: { brokers },
        sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
        output: { topic, partitions: 1 },
        telemetry: { port, log_level: 'warn' },
      }),
    );
    process.stderr.write(`bench: agent → ${brokers.join(',')} topic ${topic}\n`);
    const started = process.hrtime.bigint();
    const agent = spawn(process.execPath, [CLI, 'agent', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = agent.pid as number;
    let stats = { cpuSeconds: 0, peakRssBytes: 0 };
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await procStats(pid);
      if ((await sentEvents(`http://127.0.0.1:${port}/metrics`)) >= LINES) break;
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    agent.kill('SIGTERM');
    await new Promise((resolve) => agent.once('exit', resolve));
    const result = {
      benchmark: 'agent-throughput',
      date: new Date().toISOString(),
      lines: LINES,
      line_bytes: LINE_BYTES,
      seconds: Number(seconds.toFixed(2)),
      lines_per_second: Math.round(LINES / seconds),
      mib_per_second: Number(((LINES * LINE_BYTES) / seconds / 1024 / 1024).toFixed(1)),
      agent_cpu_seconds: stats.cpuSeconds,
      agent_peak_rss_mib: Number((stats.peakRssBytes / 1024 / 1024).toFixed(1)),
      kafka: kafka ? `local ${kafka.version}` : 'external',
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
      note: 'wall time includes agent start-up (~0.5 s) and the broker on the same 2 cores',
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    await mkdir(join(packageRoot(), 'bench', 'results'), { recursive: true });
    await appendFile(join(packageRoot(), 'bench', 'results', 'agent-throughput.ndjson'), `${JSON.stringify(result)}\n`);
  } finally {
    await kafka?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
