/**
 * What the end-to-end benches share: a broker (local unless KAFKA_BROKERS is
 * set), the compiled CLI run as its own process, CPU and peak RSS from /proc,
 * a component's sent-events counter from /metrics, and the markdown table and
 * NDJSON results they print and append.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startLocalKafka } from '../../deploy/dev/kafka/local-kafka.js';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';
import { packageRoot } from '../../shared/paths.js';

/**
 * The CLI under test: this checkout's build, or another build's entry point (`TRIBUTARY_BENCH_CLI`) so one
 * run measures two versions against the same broker and ceiling. `TRIBUTARY_BENCH_LABEL` names it in results.
 */
const CLI = process.env.TRIBUTARY_BENCH_CLI ?? join(packageRoot(), 'dist', 'cli', 'tributary.js');
const BUILD_LABEL = process.env.TRIBUTARY_BENCH_LABEL ?? 'this checkout';
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ, fixed at 100 on every mainstream architecture

export interface BenchBrokers {
  brokers: string[];
  /** `local <version>` or `external`, recorded with each result. */
  kafka: string;
  stop: () => Promise<void>;
}

/** A local single-node broker, or the cluster named by KAFKA_BROKERS (left running by stop()). */
export async function benchBrokers(): Promise<BenchBrokers> {
  const external = process.env.KAFKA_BROKERS?.split(',');
  if (external) return { brokers: external, kafka: 'external', stop: async () => {} };
  const kafka = await startLocalKafka();
  return { brokers: kafka.brokers, kafka: `local ${kafka.version}`, stop: () => kafka.stop() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A random base for metrics ports, so a run does not collide with a previous one still in TIME_WAIT. */
export function randomPort(): number {
  return 19_000 + Math.floor(Math.random() * 1000);
}

/** `tributary <args>` from dist/, with the flags the CLI is shipped with; stderr is passed through. */
export function spawnCli(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** SIGTERM and wait for the exit; resolves with the exit code. */
export async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

export interface ProcStats {
  /** User + system CPU seconds so far. */
  cpuSeconds: number;
  /** VmHWM: the process's peak resident set. */
  peakRssMib: number;
}

export async function procStats(pid: number): Promise<ProcStats> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
    peakRssMib: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024,
  };
}

/** Direct children of a process, from /proc/<pid>/task/<tid>/children. */
export async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')));
  return lists.flatMap((list) => list.split(' ').filter((entry) => entry.trim() !== '')).map(Number);
}

/** The last sample of `tributary_component_sent_events_total{component_id=…}`, 0 while the endpoint is not up. */
export async function sentEvents(metricsUrl: string, componentId: string): Promise<number> {
  const text = await fetch(metricsUrl).then(
    (response) => response.text(),
    () => '',
  );
  const sample = text
    .split('\n')
    .find((candidate) => candidate.startsWith('tributary_component_sent_events_total') && candidate.includes(`component_id="${componentId}"`));
  return sample ? Number(sample.slice(sample.lastIndexOf(' ') + 1)) : 0;
}

export function machine(): { node: string; cpus: string; build: string } {
  return { node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`, build: BUILD_LABEL };
}

/** Prints a markdown table; cells are converted with String(). */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): void {
  const line = (cells: readonly unknown[]) => `| ${cells.map((cell) => String(cell)).join(' | ')} |`;
  process.stdout.write(`${[line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')}\n`);
}

/** Appends one JSON line per result to bench/results/<file>. */
export async function appendResults(file: string, results: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const dir = join(packageRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, file), results.map((result) => `${JSON.stringify(result)}\n`).join(''));
}
