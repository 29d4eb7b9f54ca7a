import { errorMessage } from '../shared/errors.js';
import { createKafkaClient, type KafkaClient } from '../shared/kafka/client.js';
import type { GroupConsumer, PartitionBatch } from '../shared/kafka/consumer.js';
import { deniedAccess, refusedCredentials } from '../shared/kafka/errors.js';
import type { MessageProducer } from '../shared/kafka/producer.js';
import type { TopicSpec } from '../shared/kafka/topics.js';
import { retry } from '../shared/pipeline/retry.js';
import type { Lifecycle } from '../shared/pipeline/types.js';
import { ComponentHealth } from '../shared/telemetry/component-health.js';
import { startTelemetryServer, type HealthState, type TelemetryServer } from '../shared/telemetry/http-server.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { PipelineMetrics, type ComponentMetrics } from '../shared/telemetry/metrics.js';
import { RecordTaps } from '../shared/telemetry/record-tap.js';
import { processStatus } from '../shared/telemetry/status.js';
import { inSpan } from '../shared/telemetry/tracing.js';
import { AlertingMetrics } from './alerting/alerting-metrics.js';
import { AlertingService } from './alerting/alerting-service.js';
import type { CollectorConfig } from './config.js';
import { createProcessors } from './processors/registry.js';
import { DeadLetterOutput } from './outputs/dead_letter/dead-letter-output.js';
import type { CollectorOutput } from './outputs/output-factory.js';
import { createOutput } from './outputs/registry.js';
import { collectorTapPoints, RecordPipeline } from './record-pipeline.js';
import { StepTimings } from './step-status.js';

/**
 * One consumer-group member: raw topics (log and metric frames) → decode → normalize → outputs, with
 * offsets committed only behind what every output acknowledged. Scale-out is
 * Kafka's: more collectors in the same group share the partitions.
 */
export class Collector implements Lifecycle {
  readonly metrics: PipelineMetrics;
  /** What the process guard marked failed (an error no code handled); the collector is not ready while any is listed. */
  readonly health = new ComponentHealth();
  private readonly producer: MessageProducer;
  private readonly outputs: CollectorOutput[];
  private readonly deadLetters: DeadLetterOutput;
  private readonly pipeline: RecordPipeline;
  private readonly consumer: GroupConsumer;
  private readonly inputMetrics: ComponentMetrics;
  private readonly client: KafkaClient;
  private readonly stopSignal = new AbortController();
  /** Ends the wait for Kafka to accept our credentials at start-up. */
  private readonly startAborted = new AbortController();
  private readonly alerting: AlertingService | undefined;
  private readonly stepTimings = new StepTimings();
  /** Samples for `tributary tap` (telemetry.tap): every record after the processors, each output's, dead letters. */
  readonly samples = new RecordTaps(() => collectorTapPoints(Object.keys(this.config.outputs)));
  private telemetry: TelemetryServer | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: CollectorConfig,
    private readonly logger: Logger,
  ) {
    this.metrics = new PipelineMetrics('collector');
    this.client = createKafkaClient(config.kafka, logger, `tributary-collector-${config.collector.instance_name}`);
    this.producer = this.client.messageProducer();
    this.outputs = Object.entries(config.outputs).map(([id, output]) =>
      createOutput(id, output, {
        producer: this.producer,
        metrics: this.metrics.component({ component_id: id, component_type: output.type, component_kind: 'sink' }),
        logger: logger.child({ output: id }),
      }),
    );
    this.deadLetters = new DeadLetterOutput(
      config.dead_letter.topic,
      this.producer,
      this.metrics.component({ component_id: 'dead_letter', component_type: 'kafka_topics', component_kind: 'sink' }),
    );
    this.inputMetrics = this.metrics.component({ component_id: 'input', component_type: 'kafka', component_kind: 'source' });
    if (config.alerting !== undefined) {
      this.alerting = new AlertingService(config.alerting, {
        client: this.client,
        producer: this.producer,
        groupId: config.collector.group_id,
        instanceName: config.collector.instance_name,
        metrics: new AlertingMetrics(this.metrics.registry),
        partialsMetrics: this.metrics.component({ component_id: 'alerting', component_type: 'alerting', component_kind: 'sink' }),
        logger: logger.child({ component: 'alerting' }),
        sessionTimeoutMs: config.input.session_timeout,
        heartbeatIntervalMs: config.input.heartbeat_interval,
        // Restoring alert state backs off like a failed step: the collector's own `retry` section.
        retry: { initialMs: config.retry.initial_backoff, maxMs: config.retry.max_backoff },
      });
    }
    const normalizeMetrics = {
      // `normalize` keeps the id it had before metric records existed, so dashboards on it still count logs.
      'raw.log.v1': this.metrics.component({ component_id: 'normalize', component_type: 'normalize', component_kind: 'processor' }),
      'raw.metric.v1': this.metrics.component({ component_id: 'normalize_metrics', component_type: 'normalize', component_kind: 'processor' }),
    };
    const processors = createProcessors(config, {
      outputIds: Object.keys(config.outputs),
      normalizeMetrics,
      metricsFor: (type) => this.metrics.component({ component_id: type, component_type: type, component_kind: 'processor' }),
    });
    this.pipeline = new RecordPipeline(
      this.outputs,
      this.deadLetters,
      {
        maxFrameBytes: config.input.max_frame_bytes,
        staticResource: config.collector.resource,
        processors,
        retry: { initialMs: config.retry.initial_backoff, maxMs: config.retry.max_backoff },
        taps: this.alerting === undefined ? [] : [this.alerting.partialsOutput],
        samples: this.samples,
        maxStepEvents: config.input.max_step_events,
        maxStepBytes: config.input.max_step_bytes,
      },
      normalizeMetrics,
      logger.child({ component: 'pipeline' }),
    );
    this.consumer = this.client.groupConsumer({
      groupId: config.collector.group_id,
      topics: config.input.topics,
      fromBeginning: config.input.start_offset === 'earliest',
      partitionsConsumedConcurrently: config.input.partitions_concurrently,
      commitIntervalMs: config.input.commit_interval,
      maxBytesPerPartition: Math.max(config.input.max_step_bytes, 1024 * 1024),
      sessionTimeoutMs: config.input.session_timeout,
      heartbeatIntervalMs: config.input.heartbeat_interval,
      deniedRetry: { initialMs: config.retry.initial_backoff, maxMs: config.retry.max_backoff },
      // Consuming waits (not ready) until the ACL is granted; nothing was fetched, so nothing is lost meanwhile.
      onDenied: (error, retryInMs) =>
        logger.warn({ retry_in_ms: retryInMs, err: errorMessage(error) }, 'Kafka denied the consumer; not ready, retrying until the ACL is granted'),
    });
  }

  get telemetryUrl(): string | undefined {
    return this.telemetry?.url;
  }

  async start(): Promise<void> {
    this.state = 'starting';
    // Rule files are configuration: a mistake in them fails the start, before anything is consumed.
    await this.alerting?.loadRules();
    const health: HealthState = {
      live: () => this.state !== 'stopped',
      // A sink that cannot deliver (its server down, or refusing our credentials) makes the collector not ready.
      ready: () =>
        this.state === 'running' && this.health.healthy && this.consumer.problem() === undefined && this.outputs.every((output) => output.ready?.() ?? true),
      problems: () => [
        ...this.health.describe(),
        ...[this.consumer.problem()?.message, ...this.outputs.map((output) => output.problem?.())].filter((line) => line !== undefined),
      ],
    };
    const { group_id: group, instance_name: instance } = this.config.collector;
    this.telemetry = await startTelemetryServer({ ...this.config.telemetry, logger: this.logger }, this.metrics.registry, health, {
      status: () =>
        processStatus({
          process: 'collector',
          id: `${group}/${instance}`,
          registry: this.metrics.registry,
          health,
          reporters: () => [this.stepTimings, ...(this.alerting ? [this.alerting] : [])],
        }),
      taps: this.samples,
    });
    const topics: TopicSpec[] = [
      // Agents normally create the raw topics; creating them here too lets collectors start first.
      ...this.config.input.topics.map((topic) => ({ topic, partitions: 6 })),
      ...this.outputs.flatMap((output) => output.topics ?? []),
      { topic: this.config.dead_letter.topic, partitions: this.config.dead_letter.partitions },
      ...(this.alerting?.topics ?? []),
    ];
    const created = await this.untilCredentialsAccepted(() => this.client.topicAdmin().ensureTopics(topics));
    if (created.length > 0) this.logger.info({ topics: created }, 'created topics');
    // Downstream first: outputs must be ready before the first record arrives.
    await this.untilCredentialsAccepted(() => this.producer.connect());
    for (const output of this.outputs) await output.start();
    await this.alerting?.start();
    await this.consumer.start((batch) => this.handleBatch(batch));
    this.state = 'running';
    this.logger.info(
      {
        group: this.config.collector.group_id,
        topics: this.config.input.topics,
        outputs: this.outputs.map((output) => output.id),
        metrics: this.telemetry.url,
      },
      'collector started',
    );
  }

  private async handleBatch(batch: PartitionBatch): Promise<void> {
    this.inputMetrics.consumerLag(batch.topic, batch.partition, batch.lagMessages);
    // Steps bound the memory of decoded records and let offsets advance within a large fetch. They are cut by
    // what frames decode to (events and bytes), never by their headers, and a large frame spans several steps.
    const steps = this.pipeline.steps(batch.topic, batch.partition, batch.messages);
    // A step waits for every output; while a sink is down that can be minutes. The group consumer heartbeats
    // meanwhile (decoding and processing yield to the event loop), so the group does not evict this member and
    // replay its partitions elsewhere: the step is backpressure.
    while (batch.shouldContinue()) {
      const step = await steps.read();
      if (step === undefined) break;
      this.inputMetrics.bytesIn.inc(step.messageBytes);
      const started = performance.now();
      await inSpan(
        'collector.step',
        {
          'messaging.destination.name': batch.topic,
          'messaging.destination.partition.id': String(batch.partition),
          'messaging.batch.message_count': step.completedMessages,
        },
        () => this.pipeline.processStep(batch.topic, batch.partition, step, this.stopSignal.signal),
      );
      this.stepTimings.record(batch.topic, batch.partition, step.completedMessages, (performance.now() - started) / 1000);
      // Only whole messages are marked: a frame still being read in later steps is replayed whole after a crash.
      if (step.completedOffset !== undefined) {
        await batch.markProcessed(step.completedOffset);
        this.inputMetrics.eventsIn.inc(step.completedMessages);
        this.inputMetrics.eventsOut.inc(step.completedMessages);
      }
    }
  }

  /**
   * Refused credentials or TLS (KAFKA_AUTH_FAILED, naming the key) and denied ACLs (KAFKA_ACCESS_DENIED, naming
   * the ACL and the principal) are waited out, not ready, one line per attempt: exiting would make a supervisor
   * restart the process into the same refusal, a crash loop, while waiting keeps /healthz and the reason visible
   * until the operator fixes the config (password and token files are re-read on each attempt) or adds the ACL.
   * Other failures fail the start as before.
   */
  private untilCredentialsAccepted<T>(call: () => Promise<T>): Promise<T> {
    return retry(call, {
      policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff },
      signal: this.startAborted.signal,
      classify: (error) => (refusedCredentials(error) || deniedAccess(error) ? 'retry' : 'fail'),
      onRetry: (attempt, delayMs, error) =>
        this.logger.warn(
          { attempt, retry_in_ms: delayMs, err: errorMessage(error) },
          deniedAccess(error) ? 'Kafka denied access; not ready, retrying until the ACL is granted' : 'Kafka refused the connection; not ready, retrying',
        ),
    });
  }

  /** Finish the step in progress, commit, leave the group, close outputs. Idempotent. */
  stop(): Promise<void> {
    this.startAborted.abort();
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.state = 'stopping';
    const timeout = setTimeout(() => {
      // Past the budget, retries stop; the unacknowledged step stays uncommitted and is replayed later.
      this.logger.warn('shutdown timeout: abandoning retries; uncommitted records will be re-consumed');
      this.stopSignal.abort();
    }, this.config.collector.shutdown_timeout);
    try {
      await this.consumer.stop();
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'consumer stop failed');
    }
    clearTimeout(timeout);
    await this.alerting?.stop();
    for (const output of this.outputs) await output.stop();
    await this.producer.disconnect();
    await this.telemetry?.close();
    this.state = 'stopped';
    this.logger.info('collector stopped');
  }
}
