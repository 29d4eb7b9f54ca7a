import { CheckpointStore } from './checkpoint/checkpoint-store.js';
import type { AgentConfig } from './config.js';
import { Framer } from './framer/framer.js';
import { KafkaOutput } from './outputs/kafka/kafka-output.js';
import { FileSource } from './sources/file/file-source.js';
import { createKafkaClient } from '../shared/kafka/client.js';
import { AckedProducer } from '../shared/kafka/producer.js';
import { ensureTopicsWith } from '../shared/kafka/topics.js';
import type { Lifecycle } from '../shared/pipeline/types.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { PipelineMetrics } from '../shared/telemetry/metrics.js';
import { startTelemetryServer, type TelemetryServer } from '../shared/telemetry/http-server.js';
import { errorMessage } from '../shared/errors.js';

/**
 * The agent graph: sources → framer → Kafka output, with acknowledgements
 * flowing back to the checkpoint store. Started downstream-first and stopped
 * upstream-first (the OpenTelemetry Collector's contract), so nothing is read
 * that cannot be sent and nothing sent is left unacknowledged at exit.
 */
export class Agent implements Lifecycle {
  readonly metrics: PipelineMetrics;
  private readonly checkpoints: CheckpointStore;
  private readonly output: KafkaOutput;
  private readonly framer: Framer;
  private readonly sources: FileSource[];
  private telemetry: TelemetryServer | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {
    this.metrics = new PipelineMetrics('agent');
    this.checkpoints = CheckpointStore.forDataDir(config.agent.data_dir);
    const client = createKafkaClient(config.kafka, logger, `tributary-agent-${config.agent.id}`);
    this.output = new KafkaOutput(
      config.output,
      new AckedProducer(client),
      (specs) => ensureTopicsWith(client, specs),
      this.metrics.component({ component_id: 'kafka', component_type: 'kafka', component_kind: 'output' }),
      logger.child({ component: 'output.kafka' }),
    );
    this.framer = new Framer(
      config.framer,
      this.output,
      this.metrics.component({ component_id: 'framer', component_type: 'framer', component_kind: 'framer' }),
    );
    this.sources = Object.entries(config.sources).map(
      ([name, sourceConfig]) =>
        new FileSource(name, sourceConfig, {
          agentId: config.agent.id,
          host: config.agent.host_name,
          consumer: this.framer,
          checkpoints: this.checkpoints,
          metrics: this.metrics.component({ component_id: name, component_type: sourceConfig.type, component_kind: 'source' }),
          logger: logger.child({ component: `source.${name}` }),
        }),
    );
  }

  get telemetryUrl(): string | undefined {
    return this.telemetry?.url;
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.telemetry = await startTelemetryServer(this.config.telemetry.listen_address, this.config.telemetry.port, this.metrics.registry, {
      live: () => this.state !== 'stopped',
      ready: () => this.state === 'running',
    });
    await this.checkpoints.load();
    await this.output.start();
    for (const source of this.sources) await source.start();
    const checkpointMetrics = this.metrics.component({ component_id: 'checkpoints', component_type: 'checkpoint', component_kind: 'source' });
    this.checkpointTimer = setInterval(() => {
      const expired = this.checkpoints.expire(this.config.agent.checkpoint_expire_after, (identity) =>
        this.sources.some((source) => source.isActive(identity)),
      );
      if (expired.length > 0) this.logger.info({ expired: expired.length }, 'forgot checkpoints of files gone for longer than checkpoint_expire_after');
      this.checkpoints.flush().then(
        () => checkpointMetrics.checkpointAge.set(0),
        (error: unknown) => {
          checkpointMetrics.error('checkpoint');
          checkpointMetrics.checkpointAge.set(this.checkpoints.secondsSinceWrite);
          this.logger.error({ err: errorMessage(error) }, 'checkpoint write failed; will retry');
        },
      );
    }, this.config.agent.checkpoint_interval);
    this.state = 'running';
    this.logger.info({ sources: this.sources.map((source) => source.name), topic: this.config.output.topic, metrics: this.telemetry.url }, 'agent started');
  }

  /** Stop reading, flush frames, wait for Kafka's acks, write checkpoints. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.state = 'stopping';
    await Promise.all(this.sources.map((source) => source.stop()));
    await this.framer.flushAll();
    await this.output.stop();
    clearInterval(this.checkpointTimer);
    await this.checkpoints.flush();
    await this.telemetry?.close();
    this.state = 'stopped';
    this.logger.info('agent stopped');
  }
}
