import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokers, uniqueName } from './kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from './processes.js';

/**
 * The sink end-to-end tests' pipeline: an agent tailing `<dir>/logs/*.log`
 * into a raw topic, and a collector reading it into the sink under test (its
 * only output) with a dead-letter topic, both as real processes.
 */
export interface SinkPipelineOptions {
  /** Short sink name (`es`, `solr`, `hdfs`): in topic, group and agent names. */
  readonly sink: string;
  /** The test's name for this run. */
  readonly name: string;
  /** mkdtemp prefix of the run's directory. */
  readonly dirPrefix: string;
  /** The `service.name` label of every line. */
  readonly service: string;
  /** The collector's `outputs`. */
  readonly outputs: Record<string, unknown>;
  /** Added to the agent's `framer` (`linger: 50ms`). */
  readonly framer?: Record<string, unknown>;
  /** Added to the collector's `input`. */
  readonly input?: Record<string, unknown>;
  /** Added at the top of the collector's config (e.g. `parsers`). */
  readonly collector?: Record<string, unknown>;
  /** Processes started are pushed here, so the test's afterAll kills them. */
  readonly running: RunningProcess[];
  /** When given, the run's directory is pushed here for the test to remove. */
  readonly dirs?: string[];
}

export interface SinkPipeline {
  readonly dir: string;
  /** The raw topic the agent writes and the collector reads. */
  readonly rawTopic: string;
  readonly logFile: string;
  readonly dlqTopic: string;
  readonly collectorPort: number;
  readonly startAgent: () => Promise<RunningProcess>;
  readonly startCollector: () => Promise<RunningProcess>;
}

export async function sinkPipeline(options: SinkPipelineOptions): Promise<SinkPipeline> {
  const { sink, name } = options;
  const dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
  options.dirs?.push(dir);
  await mkdir(join(dir, 'logs'));
  const rawTopic = uniqueName(`${sink}-raw-${name}`);
  const dlqTopic = uniqueName(`${sink}-dlq-${name}`);
  const [agentPort, collectorPort] = [await freePort(), await freePort()];
  const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
    agent: { id: `${sink}-${name}`, data_dir: join(dir, 'agent-data') },
    kafka: { brokers: brokers() },
    sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')], labels: { 'service.name': options.service } } },
    framer: { linger: '50ms', ...options.framer },
    output: { topic: rawTopic, partitions: 3 },
    telemetry: { port: agentPort },
  });
  const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
    collector: { group_id: uniqueName(`${sink}-${name}`) },
    kafka: { brokers: brokers() },
    input: { topics: [rawTopic], session_timeout: '6s', heartbeat_interval: '1s', ...options.input },
    outputs: options.outputs,
    dead_letter: { topic: dlqTopic },
    telemetry: { port: collectorPort },
    ...options.collector,
  });
  const start = async (command: 'agent' | 'collector', config: string, port: number): Promise<RunningProcess> => {
    const process_ = startCli(command, config);
    options.running.push(process_);
    await waitUntilReady(process_, `http://127.0.0.1:${port}`);
    return process_;
  };
  return {
    dir,
    rawTopic,
    logFile: join(dir, 'logs', 'app.log'),
    dlqTopic,
    collectorPort,
    startAgent: () => start('agent', agentConfig, agentPort),
    startCollector: () => start('collector', collectorConfig, collectorPort),
  };
}
