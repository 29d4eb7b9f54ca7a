import { join } from 'node:path';
import { probeWritableDirectory } from './checkpoint/atomic-file.js';
import { CheckpointPersistence } from './checkpoint/checkpoint-persistence.js';
import type { CheckpointStore } from './checkpoint/checkpoint-store.js';
import type { AgentConfig } from './config.js';
import { Framer } from './framer/framer.js';
import { KafkaOutput } from './outputs/kafka/kafka-output.js';
import { SpooledKafkaOutput } from './outputs/kafka/spooled-kafka-output.js';
import { bindSource, type BoundSource } from './sources/registry.js';
import type { CheckpointedSource } from './sources/source-factory.js';
import { SourceSupervisor, type NamedSource } from './source-supervisor.js';
import { sourceTapPoint, tappedConsumer } from './tapped-consumer.js';
import { createKafkaClient, type KafkaClient } from '../shared/kafka/client.js';
import type { Lifecycle } from '../shared/pipeline/types.js';
import { ComponentHealth } from '../shared/telemetry/component-health.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { PipelineMetrics } from '../shared/telemetry/metrics.js';
import { startTelemetryServer, type HealthState, type TelemetryServer } from '../shared/telemetry/http-server.js';
import { RecordTaps } from '../shared/telemetry/record-tap.js';
import { processStatus } from '../shared/telemetry/status.js';
import { TributaryError, errorMessage } from '../shared/errors.js';

/** Log frames: file sources → framer → Kafka output with a memory bound; files are the buffer. */
interface LogPath {
  output: KafkaOutput;
  framer: Framer;
  sources: Array<SourceSupervisor<CheckpointedSource>>;
}

/** Metric frames: scrape and host sources → framer → spooled output; the disk spool is the buffer. */
interface MetricPath {
  output: SpooledKafkaOutput;
  framer: Framer;
  sources: Array<SourceSupervisor<NamedSource>>;
}

/**
 * The agent graph: sources → framer → Kafka output, with acknowledgements
 * flowing back to the checkpoint store. Logs and metrics take separate paths
 * because they buffer differently (a file can be re-read, a scrape cannot),
 * and a path exists only when a source needs it. Started downstream-first and
 * stopped upstream-first (the OpenTelemetry Collector's contract), so nothing
 * is read that cannot be sent and nothing sent is left unacknowledged at exit.
 */
export class Agent implements Lifecycle {
  readonly metrics: PipelineMetrics;
  /** Sources that failed and are being restarted; the agent is not ready while any is listed. */
  readonly health = new ComponentHealth();
  /** Samples of each source's events for `tributary tap` (telemetry.tap). */
  readonly taps = new RecordTaps(() => Object.keys(this.config.sources).map(sourceTapPoint));
  /** File sources open their acknowledgement trackers on it (`track`); `checkpointPersistence` writes it. */
  private readonly checkpoints: CheckpointStore;
  private readonly checkpointPersistence: CheckpointPersistence;
  private readonly logPath: LogPath | undefined;
  private readonly metricPath: MetricPath | undefined;
  private telemetry: TelemetryServer | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {
    this.metrics = new PipelineMetrics('agent');
    this.checkpointPersistence = new CheckpointPersistence(config.agent.data_dir, {
      intervalMs: config.agent.checkpoint_interval,
      expireAfterMs: config.agent.checkpoint_expire_after,
    });
    this.checkpoints = this.checkpointPersistence.store;
    const client = createKafkaClient(config.kafka, logger, `tributary-agent-${config.agent.id}`);
    const sourceMetrics = (name: string, type: string) => this.metrics.component({ component_id: name, component_type: type, component_kind: 'source' });
    const common = { agentId: config.agent.id, host: config.agent.host_name };
    // Each source's factory says which stream it feeds: a path exists only when a source needs it.
    const bound = Object.entries(config.sources).map(([name, source]) => bindSource(name, source));

    const logSources = bound.flatMap((source) => (source.stream === 'logs' ? [source] : []));
    if (logSources.length > 0) {
      const output = new KafkaOutput(
        config.output,
        client.messageProducer(),
        client.topicAdmin(),
        this.metrics.component({ component_id: 'kafka', component_type: 'kafka', component_kind: 'sink' }),
        logger.child({ component: 'output.kafka' }),
      );
      const framer = new Framer(
        config.framer,
        output,
        this.metrics.component({ component_id: 'framer', component_type: 'framer', component_kind: 'processor' }),
      );
      const sources = logSources.map((source) => {
        const metrics = sourceMetrics(source.name, source.type);
        const sourceLogger = logger.child({ component: `source.${source.name}` });
        const consumer = tappedConsumer(framer, this.taps, source.name);
        const deps = { ...common, consumer, checkpoints: this.checkpoints, metrics, logger: sourceLogger };
        return new SourceSupervisor(source.name, () => source.create(deps), { health: this.health, metrics, logger: sourceLogger });
      });
      this.logPath = { output, framer, sources };
    }

    const metricSources = bound.flatMap((source) => (source.stream === 'metrics' ? [source] : []));
    if (metricSources.length > 0) this.metricPath = this.buildMetricPath(client, metricSources, sourceMetrics);
  }

  private buildMetricPath(
    client: KafkaClient,
    bound: ReadonlyArray<Extract<BoundSource, { stream: 'metrics' }>>,
    sourceMetrics: (name: string, type: string) => ReturnType<PipelineMetrics['component']>,
  ): MetricPath {
    const { config, logger } = this;
    const output = new SpooledKafkaOutput(
      config.metrics_output,
      config.metrics_output.spool.dir ?? join(config.agent.data_dir, 'spool', 'metrics'),
      client.messageProducer(),
      client.topicAdmin(),
      this.metrics.component({ component_id: 'metrics_kafka', component_type: 'kafka_spooled', component_kind: 'sink' }),
      logger.child({ component: 'output.metrics_kafka' }),
    );
    const framer = new Framer(
      config.framer,
      output,
      this.metrics.component({ component_id: 'metrics_framer', component_type: 'framer', component_kind: 'processor' }),
    );
    // Batches of one scrape fit one frame each: the framer never splits a batch.
    const limits = { maxEvents: config.framer.max_events, maxBytes: config.framer.max_bytes };
    const sources = bound.map((source) => {
      const deps = {
        agentId: config.agent.id,
        host: config.agent.host_name,
        consumer: tappedConsumer(framer, this.taps, source.name),
        limits,
        metrics: sourceMetrics(source.name, source.type),
        logger: logger.child({ component: `source.${source.name}` }),
      };
      const supervision = { health: this.health, metrics: deps.metrics, logger: deps.logger };
      return new SourceSupervisor(source.name, () => source.create(deps), supervision);
    });
    return { output, framer, sources };
  }

  get telemetryUrl(): string | undefined {
    return this.telemetry?.url;
  }

  /** Every source (its supervisor; `current` is the running instance), for tests and diagnostics. */
  get sources(): ReadonlyArray<SourceSupervisor<NamedSource>> {
    return [...(this.logPath?.sources ?? []), ...(this.metricPath?.sources ?? [])];
  }

  async start(): Promise<void> {
    this.state = 'starting';
    await this.checkDataDir();
    const health: HealthState = {
      live: () => this.state !== 'stopped',
      // Not ready while a source has failed, or while the log output cannot reach Kafka (it keeps trying
      // and says why; files wait unread).
      ready: () => this.state === 'running' && this.health.healthy && (this.logPath?.output.ready ?? true),
      // The output's denial names the ACL to grant, so an operator reading /readyz knows what to do.
      problems: () => [...this.health.describe(), ...(this.logPath?.output.problem !== undefined ? [this.logPath.output.problem] : [])],
    };
    const outputs = [this.logPath?.output, this.metricPath?.output].filter((output) => output !== undefined);
    this.telemetry = await startTelemetryServer({ ...this.config.telemetry, logger: this.logger }, this.metrics.registry, health, {
      status: () =>
        processStatus({ process: 'agent', id: this.config.agent.id, registry: this.metrics.registry, health, reporters: () => [...this.sources, ...outputs] }),
      taps: this.taps,
    });
    if (this.logPath) await this.startLogPath(this.logPath);
    if (this.metricPath) {
      await this.metricPath.output.start();
      for (const source of this.metricPath.sources) await source.start();
    }
    this.state = 'running';
    this.logger.info(
      {
        sources: this.sources.map((source) => source.name),
        logs_topic: this.logPath ? this.config.output.topic : undefined,
        metrics_topic: this.metricPath ? this.config.metrics_output.topic : undefined,
        metrics: this.telemetry.url,
      },
      'agent started',
    );
  }

  /**
   * Checkpoints (and, by default, the metrics spool) live in `agent.data_dir`: if it cannot be written, the
   * agent must not start and report ready while every checkpoint write fails. Probed with a real file,
   * because permission bits do not tell about read-only mounts, ACLs or SELinux.
   */
  private async checkDataDir(): Promise<void> {
    const dataDir = this.config.agent.data_dir;
    try {
      await probeWritableDirectory(dataDir);
    } catch (error) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `agent.data_dir ${dataDir} is not writable: ${errorMessage(error)}. The agent keeps its checkpoints (and by default its metrics spool) ` +
          `there; create it for the user the agent runs as (the systemd unit's StateDirectory= does), or set agent.data_dir to a writable directory`,
        { cause: error },
      );
    }
  }

  private async startLogPath(path: LogPath): Promise<void> {
    await this.checkpointPersistence.load();
    await path.output.start();
    for (const source of path.sources) await source.start();
    this.checkpointPersistence.start({
      isActive: (identity) => path.sources.some((source) => source.current.isActive(identity)),
      metrics: this.metrics.component({ component_id: 'checkpoints', component_type: 'checkpoint', component_kind: 'source' }),
      logger: this.logger.child({ component: 'checkpoints' }),
    });
  }

  /** Stop reading, flush frames, wait for Kafka's acks (or the spool), write checkpoints. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.state = 'stopping';
    await Promise.all([this.drainLogPath(), this.drainMetricPath()]);
    await this.telemetry?.close();
    this.state = 'stopped';
    this.logger.info('agent stopped');
  }

  private async drainLogPath(): Promise<void> {
    const path = this.logPath;
    if (!path) return;
    await Promise.all(path.sources.map((source) => source.stop()));
    await path.framer.flushAll();
    await path.output.stop();
    await this.checkpointPersistence.stop();
  }

  private async drainMetricPath(): Promise<void> {
    const path = this.metricPath;
    if (!path) return;
    await Promise.all(path.sources.map((source) => source.stop()));
    await path.framer.flushAll();
    await path.output.stop();
  }
}
