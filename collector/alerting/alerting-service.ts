import { errorMessage } from '../../shared/errors.js';
import type { KafkaClient } from '../../shared/kafka/client.js';
import type { GroupConsumer, PartitionBatch } from '../../shared/kafka/consumer.js';
import type { MessageProducer } from '../../shared/kafka/producer.js';
import type { TopicSpec } from '../../shared/kafka/topics.js';
import type { OutgoingRecord, RecordSink } from '../../shared/pipeline/record-sink.js';
import { retry, type RetryPolicy } from '../../shared/pipeline/retry.js';
import { SerialQueue } from '../../shared/pipeline/serial-queue.js';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics, DropReason } from '../../shared/telemetry/metrics.js';
import type { AlertingMetrics } from './alerting-metrics.js';
import type { AlertingConfig } from './config.js';
import { AlertEvaluator, type RefusedSampleReason } from './evaluator.js';
import { createAlertNotifier } from './notifiers/registry.js';
import { KafkaAlertPublisher } from './notifiers/kafka-alert-publisher.js';
import type { AlertNotifier } from './notifiers/notifier.js';
import { buildPartials, stateKey, type AlertPartial } from './partials.js';
import { RuleSet } from './rules/alert-rule.js';
import { loadRulesFiles } from './rules/config.js';
import { RuleFilesPoller } from './rules/rule-files-poller.js';
import { AlertStateStore } from './state-store.js';
import type { StatusContribution, StatusReporter, StatusTableSpec } from '../../shared/telemetry/status.js';

export interface AlertingDependencies {
  client: KafkaClient;
  producer: MessageProducer;
  /** The collector's consumer group; the evaluating group and the internal topics are named after it. */
  groupId: string;
  instanceName: string;
  metrics: AlertingMetrics;
  /** Stage one's events in/out and errors, as any output's. */
  partialsMetrics: ComponentMetrics;
  logger: Logger;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Backoff for restoring alert state; DEFAULT_RESTORE_RETRY when unset. */
  retry?: RetryPolicy;
}

const TICK_MS = 1000;
/** The ceilings the restore loop always had (1 s doubling to 30 s), now with full jitter; no max_attempts: until stop. */
const DEFAULT_RESTORE_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 30_000 };
/** How often the rule files are stat-ed for changes (`reload: true`); they are re-read only when one changed. */
const RULES_POLL_MS = 5000;
const REFUSED_SAMPLE_DROPS: ReadonlyArray<[RefusedSampleReason, DropReason]> = [
  ['future', 'alert_future'],
  ['slice_limit', 'alert_slice_limit'],
  ['alert_limit', 'alert_group_limit'],
];

/**
 * Threshold alerting across any number of collectors, built on Kafka.
 *
 * Stage one runs where records land: every collector reduces each step's
 * records to partial aggregates per rule and group key (see partials.ts) and
 * produces them to the partials topic keyed by rule and group, before the
 * step's offsets may be committed. Stage two owns keys: a second consumer
 * group over the partials topic gives each partition, and so each alert, to
 * exactly one collector, which adds the partials from everywhere and evaluates
 * the rule (see evaluator.ts). Its state (slices, lifecycle, the last frame
 * applied per source) is checkpointed to a compacted topic, co-partitioned
 * with the partials, before the partials' offsets are committed; the collector
 * that takes a partition over after a crash or a rebalance reads that state,
 * and the partials replayed after it are recognised by frame offset. Alerts
 * go to the alerts topic, then to the notifiers.
 */
/** Alerts pending and firing on the status page; capped, since a rule may group by a high-cardinality label. */
const ALERTS_STATUS_TABLE: StatusTableSpec = {
  id: 'alerts',
  title: 'Alerts (pending and firing, owned by this collector)',
  key: ['rule', 'labels'],
  columns: [
    { key: 'rule', label: 'rule' },
    { key: 'labels', label: 'labels' },
    { key: 'state', label: 'state' },
    { key: 'since', label: 'since', unit: 'time' },
    { key: 'value', label: 'value', unit: 'count' },
  ],
};
const MAX_ALERTS_SHOWN = 200;

export class AlertingService implements StatusReporter {
  readonly partialsOutput: RecordSink;
  private rules: RuleSet;
  private readonly evaluator: AlertEvaluator;
  private readonly partialsTopic: string;
  private readonly stateTopic: string;
  private readonly consumer: GroupConsumer;
  private readonly store: AlertStateStore;
  private readonly publisher: KafkaAlertPublisher;
  private readonly notifiers: AlertNotifier[];
  /** Serializes the evaluator's users (partials arriving, ticks, rule reloads): its state is one structure. */
  private readonly lock = new SerialQueue();
  /** Aborted by stop(): ends the retrying of state restores. */
  private readonly lifetime = new AbortController();
  /** The partials partition each known key lives in (its state is written to the same partition). */
  private readonly keyPartitions = new Map<string, number>();
  private owned = new Set<number>();
  private readonly restoring = new Map<number, Promise<void>>();
  /** State changes evaluated but not yet on the alerts topic (Kafka was unavailable): published first next time. */
  private outbox: AlertRecord[] = [];
  private lastRepeatAt = Date.now();
  private tickTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly refusedCounted: Record<RefusedSampleReason, number> = { future: 0, slice_limit: 0, alert_limit: 0 };
  private reloading: Promise<void> | undefined;
  private readonly rulesPoller: RuleFilesPoller;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly config: AlertingConfig,
    private readonly dependencies: AlertingDependencies,
  ) {
    const { groupId, client, producer, logger, metrics } = dependencies;
    // Empty until loadRules(), which the collector calls first thing at start-up.
    const rules = new RuleSet({ groups: [] });
    this.rules = rules;
    this.rulesPoller = new RuleFilesPoller(config.rules_files);
    this.partialsTopic = config.partials_topic ?? `${groupId}.alerting.partials`;
    this.stateTopic = config.state_topic ?? `${groupId}.alerting.state`;
    this.evaluator = new AlertEvaluator(rules, {
      generator: dependencies.instanceName,
      evaluationDelayMs: config.evaluation_delay,
      maxFutureSkewMs: config.max_future_skew,
      maxSlicesPerAlert: config.max_slices_per_alert,
      maxAlertsPerRule: config.max_alerts_per_rule,
    });
    this.store = new AlertStateStore(client, this.stateTopic, producer, `${groupId}.alerting`);
    this.publisher = new KafkaAlertPublisher(config.alerts_topic, producer, metrics.notifier('kafka'));
    this.notifiers = Object.entries(config.notifiers).map(([id, notifier]) =>
      createAlertNotifier(id, notifier, { metrics: metrics.notifier(id), logger: logger.child({ notifier: id }) }),
    );
    this.partialsOutput = new AlertPartialsOutput(this.partialsTopic, producer, () => this.rules, dependencies.partialsMetrics);
    this.consumer = client.groupConsumer({
      groupId: `${groupId}.alerting`,
      topics: [this.partialsTopic],
      fromBeginning: true,
      partitionsConsumedConcurrently: 1,
      commitIntervalMs: 1000,
      sessionTimeoutMs: dependencies.sessionTimeoutMs,
      heartbeatIntervalMs: dependencies.heartbeatIntervalMs,
      onAssignment: (assignment) => this.assigned(assignment[this.partialsTopic] ?? []),
    });
  }

  /** Reads and validates the rule files; a mistake fails the collector's start with the file, key path and rule. */
  async loadRules(): Promise<void> {
    // Stat before reading: a change landing during the read is seen again by the next poll.
    await this.rulesPoller.changed();
    this.rules = new RuleSet(await loadRulesFiles(this.config.rules_files));
    this.evaluator.replaceRules(this.rules, Date.now());
  }

  /** Topics to create at start-up: the two internal ones and the alerts topic. */
  statusRows(): StatusContribution[] {
    const rows = this.evaluator.active(MAX_ALERTS_SHOWN).map((alert) => ({
      rule: alert.rule,
      labels: Object.entries(alert.labels)
        .map(([name, value]) => `${name}=${value}`)
        .join(', '),
      state: alert.state,
      since: new Date(alert.since).toISOString(),
      value: alert.value,
    }));
    return [{ table: ALERTS_STATUS_TABLE, rows }];
  }

  get topics(): TopicSpec[] {
    const internal: TopicSpec[] = [
      // Partials matter only until their owner checkpointed them (seconds); a day covers any outage worth waiting for.
      { topic: this.partialsTopic, partitions: this.config.partitions, configs: { 'retention.ms': String(24 * 3600 * 1000) } },
      // Compacted: only each key's latest state matters, and the topic stays as small as the set of live alerts.
      {
        topic: this.stateTopic,
        partitions: this.config.partitions,
        configs: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': '600000' },
      },
    ];
    const alerts = this.publisher.topicSpec;
    return alerts === undefined ? internal : [...internal, alerts];
  }

  async start(): Promise<void> {
    for (const notifier of this.notifiers) await notifier.start();
    await this.consumer.start((batch) => this.handlePartials(batch));
    this.tickTimer = setInterval(() => {
      if (this.ticking !== undefined) return;
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, TICK_MS);
    if (this.config.reload) {
      this.reloadTimer = setInterval(() => {
        if (this.reloading !== undefined) return;
        this.reloading = this.reloadIfChanged().finally(() => (this.reloading = undefined));
      }, RULES_POLL_MS);
    }
    this.dependencies.logger.info(
      {
        rules: this.rules.rules.length,
        partials_topic: this.partialsTopic,
        state_topic: this.stateTopic,
        notifiers: this.notifiers.map((notifier) => notifier.id),
      },
      'alerting started',
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.lifetime.abort();
    clearInterval(this.tickTimer);
    clearInterval(this.reloadTimer);
    await this.reloading;
    await this.ticking;
    await this.consumer.stop();
    // A last checkpoint so the next owner starts where this one stopped, not at the previous checkpoint.
    await this.lock
      .run(() => this.checkpoint())
      .catch((error: unknown) => this.dependencies.logger.warn({ err: errorMessage(error) }, 'final alert checkpoint failed'));
    for (const notifier of this.notifiers) await notifier.stop();
  }

  /** After a rebalance: forget keys whose partition left, load the state of partitions that arrived. */
  private assigned(partitions: readonly number[]): void {
    const previous = this.owned;
    this.owned = new Set(partitions);
    const evicted = this.evaluator.evict((id) => this.owned.has(this.keyPartitions.get(id) ?? -1));
    for (const [id, partition] of this.keyPartitions) if (!this.owned.has(partition)) this.keyPartitions.delete(id);
    for (const partition of this.restoring.keys()) if (!this.owned.has(partition)) this.restoring.delete(partition);
    const arrived = partitions.filter((partition) => !previous.has(partition));
    this.dependencies.logger.info({ partitions, arrived, evicted_alerts: evicted }, 'alert partitions assigned');
    if (arrived.length === 0) return;
    const restore = this.restore(arrived);
    for (const partition of arrived) this.restoring.set(partition, restore);
  }

  private async restore(partitions: readonly number[]): Promise<void> {
    const signal = this.lifetime.signal;
    try {
      // Retried until it works: a partition's partials must not be applied to a state missing its checkpoint.
      await retry(
        async () => {
          const states = await this.store.load(partitions);
          await this.lock.run(async () => {
            for (const [id, { partition, state }] of states) {
              if (!this.owned.has(partition) || this.evaluator.has(id)) continue;
              this.evaluator.restore(id, state);
              this.keyPartitions.set(id, partition);
            }
            await Promise.resolve();
          });
          this.dependencies.logger.info({ partitions, alerts: states.size }, 'alert state restored');
        },
        {
          policy: this.dependencies.retry ?? DEFAULT_RESTORE_RETRY,
          signal,
          classify: () => (this.stopped ? 'fail' : 'retry'),
          onRetry: (attempt, delayMs, error) =>
            this.dependencies.logger.warn({ partitions, attempt, retry_in_ms: delayMs, err: errorMessage(error) }, 'restoring alert state failed; retrying'),
        },
      );
    } catch (error) {
      // Only stopping ends the retrying; the partition is someone else's to restore then.
      if (!this.stopped) this.dependencies.logger.error({ partitions, err: errorMessage(error) }, 'restoring alert state stopped unexpectedly');
    }
  }

  private async handlePartials(batch: PartitionBatch): Promise<void> {
    await this.restoring.get(batch.partition);
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined || !batch.shouldContinue()) return;
    await this.lock.run(async () => {
      for (const message of batch.messages) {
        let partial: AlertPartial;
        try {
          partial = JSON.parse(message.value?.toString() ?? '') as AlertPartial;
        } catch (error) {
          this.dependencies.partialsMetrics.error('decode');
          this.dependencies.logger.error({ partition: batch.partition, offset: message.offset, err: errorMessage(error) }, 'unreadable alert partial skipped');
          continue;
        }
        this.keyPartitions.set(stateKey(partial.rule, partial.key), batch.partition);
        this.evaluator.apply(partial);
      }
      await this.checkpoint();
    });
    await batch.markProcessed(last.offset);
  }

  /** Writes every changed state (or its tombstone) to the state topic. */
  private async checkpoint(): Promise<void> {
    const dirty = this.evaluator.takeDirty();
    const entries = dirty.flatMap(([id, state]) => {
      const partition = this.keyPartitions.get(id);
      if (state === undefined) this.keyPartitions.delete(id);
      return partition === undefined ? [] : [{ id, partition, state }];
    });
    try {
      await this.store.save(entries);
    } catch (error) {
      this.evaluator.markDirty(dirty.map(([id]) => id));
      for (const { id, partition } of entries) this.keyPartitions.set(id, partition);
      throw error;
    }
  }

  private async tick(): Promise<void> {
    const { metrics, logger } = this.dependencies;
    try {
      await this.lock.run(async () => {
        const now = Date.now();
        const endTimer = metrics.evaluationDuration.startTimer();
        const before = new Map(this.evaluator.stats.evaluations);
        const changes = this.evaluator.evaluate(now);
        endTimer();
        for (const [rule, count] of this.evaluator.stats.evaluations) metrics.ruleEvaluations.inc({ rule }, count - (before.get(rule) ?? 0));
        this.outbox.push(...changes);
        const pending = this.outbox;
        if (pending.length > 0) {
          // On the topic first: a crash after this and before the checkpoint re-evaluates the same changes (same ids).
          await this.publisher.publish(pending);
          this.outbox = [];
          for (const notifier of this.notifiers) notifier.notify(pending);
          for (const change of pending)
            logger.info({ alert: change.labels, state: change.state, value: change.value, at: change.changed_at }, `alert ${change.state}`);
        }
        await this.checkpoint();
        if (now - this.lastRepeatAt >= this.config.repeat_interval) {
          this.lastRepeatAt = now;
          const firing = this.evaluator.firing();
          if (firing.length > 0) for (const notifier of this.notifiers) notifier.notify(firing);
        }
        const counts = this.evaluator.countByState();
        metrics.alerts.set({ state: 'pending' }, counts.pending);
        metrics.alerts.set({ state: 'firing' }, counts.firing);
        metrics.lateSamples.set(this.evaluator.stats.lateSamples);
        this.countRefusedSamples();
      });
    } catch (error) {
      logger.warn({ err: errorMessage(error), unpublished: this.outbox.length }, 'alert evaluation round failed; retrying next round');
    }
  }

  /** Samples the evaluator refused since the last round, on the one discarded-events family. */
  private countRefusedSamples(): void {
    const refused = this.evaluator.stats.refusedSamples;
    const metrics = this.dependencies.partialsMetrics;
    for (const [reason, dropReason] of REFUSED_SAMPLE_DROPS) {
      const delta = refused[reason] - this.refusedCounted[reason];
      if (delta > 0) metrics.drop(dropReason, delta);
      this.refusedCounted[reason] = refused[reason];
    }
  }

  /** Re-reads the rule files only when a stat says one of them changed. */
  private async reloadIfChanged(): Promise<void> {
    if (await this.rulesPoller.changed()) await this.reload();
  }

  private async reload(): Promise<void> {
    const { metrics, logger } = this.dependencies;
    let rules: RuleSet;
    try {
      rules = new RuleSet(await loadRulesFiles(this.config.rules_files));
    } catch (error) {
      metrics.ruleReloads.inc({ outcome: 'failed' });
      logger.error({ err: errorMessage(error) }, 'rule files changed but are invalid; keeping the rules loaded before');
      return;
    }
    await this.lock.run(async () => {
      this.rules = rules;
      this.outbox.push(...this.evaluator.replaceRules(rules, Date.now()));
      await Promise.resolve();
    });
    metrics.ruleReloads.inc({ outcome: 'loaded' });
    logger.info({ rules: rules.rules.length }, 'alert rules reloaded');
  }

  /** Waits for what was enqueued to notifiers (tests, shutdown). */
  async flushNotifiers(): Promise<void> {
    await Promise.all(this.notifiers.map((notifier) => notifier.flush()));
  }
}

/** Stage one: a step's records → partial aggregates on the partials topic, acknowledged before the step commits. */
class AlertPartialsOutput implements RecordSink {
  readonly id = 'alerting';

  constructor(
    private readonly topic: string,
    private readonly producer: MessageProducer,
    private readonly rules: () => RuleSet,
    private readonly metrics: ComponentMetrics,
  ) {}

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async stop(): Promise<void> {
    // The producer is shared and closed by the collector.
  }

  async write(records: readonly OutgoingRecord[]): Promise<void> {
    const { partials, matched } = buildPartials(this.rules(), records);
    this.metrics.eventsIn.inc(matched);
    if (partials.length === 0) return;
    await this.producer.send(
      this.topic,
      partials.map((partial) => ({ key: stateKey(partial.rule, partial.key), value: JSON.stringify(partial) })),
    );
    this.metrics.eventsOut.inc(partials.length);
    this.metrics.batchesOut.inc();
  }
}
