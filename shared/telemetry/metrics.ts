import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metric spec every component follows (STYLE.md: one family per concept,
 * `component_id` / `component_type` labels, units in the name, bounded label
 * values). Components receive a `ComponentMetrics` bound to their labels and
 * never create families of their own, so names cannot drift between them.
 */
/**
 * A component's role, one vocabulary for both tiers (Vector's source/transform/sink): `source` takes data in
 * (file tailing, scrapes, the collector's raw-topic input), `processor` changes it on the way (the agent's
 * framer, normalize, parse, enrich), `sink` writes it out (the agent's Kafka output, every collector output,
 * dead letters, alerting); `process` is the process itself, charged with errors no component owns.
 */
export type ComponentKind = 'source' | 'processor' | 'sink' | 'process';

export interface ComponentLabels {
  component_id: string;
  component_type: string;
  component_kind: ComponentKind;
}

const COMPONENT_LABELS = ['component_id', 'component_type', 'component_kind'] as const;

/** Sampling period of the event-loop delay monitor: fine enough for a 100 ms budget, cheap enough to run always. */
const EVENT_LOOP_SAMPLE_MS = 10;
/** Quantile label → percentile of the recorded delays (`1` is the maximum). */
const EVENT_LOOP_QUANTILES: ReadonlyArray<readonly [string, number]> = [
  ['0.5', 50],
  ['0.99', 99],
  ['1', 100],
];

/** Reasons an event can be dropped or altered; a closed set keeps label cardinality bounded. */
export type DropReason =
  | 'oversize'
  | 'kafka_rejected'
  | 'frame_invalid'
  | 'frame_too_large'
  | 'sink_rejected'
  | 'spool_full'
  | 'spool_corrupt'
  | 'sample_limit'
  | 'alert_future'
  | 'alert_slice_limit'
  | 'alert_group_limit'
  /** Altered, not dropped: a time field did not parse and the record kept its observed time (flagged `tributary.timestamp_fallback`). */
  | 'timestamp_fallback'
  /** A scraped or collected sample raw.metric.v1 cannot hold (a timestamp or `_created` outside years 0000-9999, a NaN count). */
  | 'sample_invalid';
export type ErrorReason =
  | 'kafka_unavailable'
  | 'kafka_rejected'
  | 'decode'
  | 'parse'
  | 'sink_unavailable'
  | 'sink_rejected'
  | 'io'
  | 'checkpoint'
  | 'scrape'
  | 'exposition_line'
  /** A supervised component (an agent source) threw outside its own error handling; it is restarted. */
  | 'component_failed'
  /** An uncaught exception or unhandled rejection no component owns; the process reports not ready. */
  | 'uncaught'
  /** A path whose symlink target `follow_symlinks` refused. */
  | 'symlink_refused';

export class PipelineMetrics {
  readonly registry: Registry;
  readonly eventsIn: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly eventsOut: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly bytesIn: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly bytesOut: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly batchesOut: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly errors: Counter<(typeof COMPONENT_LABELS)[number] | 'reason'>;
  readonly dropped: Counter<(typeof COMPONENT_LABELS)[number] | 'reason'>;
  readonly truncated: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly invalidText: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly redactions: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly requestDuration: Histogram<(typeof COMPONENT_LABELS)[number]>;
  readonly retriedEvents: Counter<(typeof COMPONENT_LABELS)[number]>;
  readonly bufferedBytes: Gauge<(typeof COMPONENT_LABELS)[number]>;
  readonly bufferLimitBytes: Gauge<(typeof COMPONENT_LABELS)[number]>;
  readonly queuedEvents: Gauge<(typeof COMPONENT_LABELS)[number]>;
  readonly compressionRatio: Gauge<(typeof COMPONENT_LABELS)[number]>;
  readonly lagBytes: Gauge<(typeof COMPONENT_LABELS)[number] | 'file'>;
  readonly checkpointAge: Gauge<(typeof COMPONENT_LABELS)[number]>;
  readonly consumerLag: Gauge<(typeof COMPONENT_LABELS)[number] | 'topic' | 'partition'>;
  readonly eventLoopDelay: Gauge<'quantile'>;

  /**
   * `processMetrics: false` leaves out prom-client's process families (CPU, RSS, GC, handles): each set of them
   * holds a GC observer and an event-loop monitor for the life of the process, which a test making a registry
   * per case must not pile up.
   */
  constructor(processKind: 'agent' | 'collector', registry = new Registry(), options: { processMetrics?: boolean } = {}) {
    this.registry = registry;
    registry.setDefaultLabels({ tributary_process: processKind });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tributary_' });
    const labelNames = [...COMPONENT_LABELS];
    this.eventsIn = new Counter({ name: 'tributary_component_received_events_total', help: 'Events a component received.', labelNames, registers: [registry] });
    this.eventsOut = new Counter({
      name: 'tributary_component_sent_events_total',
      help: 'Events a component handed on and had acknowledged downstream.',
      labelNames,
      registers: [registry],
    });
    this.bytesIn = new Counter({
      name: 'tributary_component_received_bytes_total',
      help: 'Bytes a component received (uncompressed event bytes).',
      labelNames,
      registers: [registry],
    });
    this.bytesOut = new Counter({
      name: 'tributary_component_sent_bytes_total',
      help: 'Bytes a component sent (as written to the wire).',
      labelNames,
      registers: [registry],
    });
    this.batchesOut = new Counter({
      name: 'tributary_component_sent_batches_total',
      help: 'Batches (frames, produce requests, bulk requests) sent and acknowledged.',
      labelNames,
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'tributary_component_errors_total',
      help: 'Errors by reason; retried errors included.',
      labelNames: [...labelNames, 'reason'],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'tributary_component_discarded_events_total',
      help: 'Events dropped, by reason. Tributary never drops silently.',
      labelNames: [...labelNames, 'reason'],
      registers: [registry],
    });
    this.truncated = new Counter({
      name: 'tributary_component_truncated_events_total',
      help: 'Events cut to a size limit and flagged truncated.',
      labelNames,
      registers: [registry],
    });
    this.invalidText = new Counter({
      name: 'tributary_component_invalid_text_events_total',
      help: 'Events whose bytes were not valid in the source encoding; invalid sequences became U+FFFD.',
      labelNames,
      registers: [registry],
    });
    this.redactions = new Counter({
      name: 'tributary_component_redactions_total',
      help: 'Sensitive values (pattern matches) replaced in events; the events themselves are kept.',
      labelNames,
      registers: [registry],
    });
    this.requestDuration = new Histogram({
      name: 'tributary_component_request_duration_seconds',
      help: 'Latency of requests to the downstream system (Kafka produce, sink writes).',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.retriedEvents = new Counter({
      name: 'tributary_component_retried_events_total',
      help: 'Events sent again after a retriable failure (a failed request, or a failed item of a bulk request).',
      labelNames,
      registers: [registry],
    });
    this.bufferedBytes = new Gauge({
      name: 'tributary_component_buffered_bytes',
      help: 'Bytes held in memory waiting for downstream acknowledgement.',
      labelNames,
      registers: [registry],
    });
    // The cap beside the usage, so a dashboard or alert can say "80 % full" without knowing each config.
    this.bufferLimitBytes = new Gauge({
      name: 'tributary_component_buffer_limit_bytes',
      help: 'The most bytes the component may buffer (buffer_max_bytes; for a spooled output: spool.max_bytes).',
      labelNames,
      registers: [registry],
    });
    this.compressionRatio = new Gauge({
      name: 'tributary_component_compression_ratio',
      help: 'Uncompressed / compressed bytes of the last batch.',
      labelNames,
      registers: [registry],
    });
    this.lagBytes = new Gauge({
      name: 'tributary_file_lag_bytes',
      help: 'Bytes of a tailed file not yet acknowledged by Kafka.',
      labelNames: [...labelNames, 'file'],
      registers: [registry],
    });
    this.queuedEvents = new Gauge({
      name: 'tributary_component_queued_events',
      help: 'Events accepted but not yet delivered downstream (for a spooled output: unacknowledged events in the spool).',
      labelNames,
      registers: [registry],
    });
    this.checkpointAge = new Gauge({
      name: 'tributary_checkpoint_age_seconds',
      help: 'Seconds since the checkpoint file was last written.',
      labelNames,
      registers: [registry],
    });
    this.consumerLag = new Gauge({
      name: 'tributary_consumer_lag_messages',
      help: 'Messages in a partition after the last one fetched.',
      labelNames: [...labelNames, 'topic', 'partition'],
      registers: [registry],
    });
    this.eventLoopDelay = eventLoopDelayGauge(registry);
  }

  component(labels: ComponentLabels): ComponentMetrics {
    return new ComponentMetrics(this, labels);
  }
}

/**
 * The event-loop budget made visible: how long timers and I/O callbacks waited for the loop
 * (perf_hooks.monitorEventLoopDelay), as quantiles over the interval since the previous scrape, which resets
 * the recording. A step, scrape, parse or decode that blocks the loop for 100 ms shows up in `quantile="1"`
 * of the next scrape, whatever else happened in the interval.
 */
let processEventLoopDelays: IntervalHistogram | undefined;

/**
 * One monitor per process, however many registries: the delay is the process's, and each monitor is a native
 * timer firing every 10 ms for as long as the process lives (a fuzz run making a registry per case had ten
 * thousand of them, and 3.6 GiB of RSS).
 */
function eventLoopDelays(): IntervalHistogram {
  if (processEventLoopDelays === undefined) {
    processEventLoopDelays = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
    processEventLoopDelays.enable();
  }
  return processEventLoopDelays;
}

function eventLoopDelayGauge(registry: Registry): Gauge<'quantile'> {
  const delays = eventLoopDelays();
  return new Gauge({
    name: 'tributary_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape (quantile 1 = the maximum); the recording restarts at every scrape.',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const [quantile, percentile] of EVENT_LOOP_QUANTILES) {
        // An empty recording (two scrapes within one sample period) reports no delay rather than its sentinels.
        this.set({ quantile }, delays.count === 0 ? 0 : delays.percentile(percentile) / 1e9);
      }
      delays.reset();
    },
  });
}

/** A component's view of the metric families, pre-bound to its labels. */
export class ComponentMetrics {
  readonly labels: ComponentLabels;
  readonly eventsIn;
  readonly eventsOut;
  readonly bytesIn;
  readonly bytesOut;
  readonly batchesOut;
  readonly truncated;
  readonly invalidText;
  readonly redactions;
  readonly requestDuration;
  readonly retriedEvents;
  readonly bufferedBytes;
  readonly bufferLimitBytes;
  readonly queuedEvents;
  readonly compressionRatio;
  readonly checkpointAge;
  private readonly families: PipelineMetrics;

  constructor(families: PipelineMetrics, labels: ComponentLabels) {
    this.families = families;
    this.labels = labels;
    this.eventsIn = families.eventsIn.labels(labels);
    this.eventsOut = families.eventsOut.labels(labels);
    this.bytesIn = families.bytesIn.labels(labels);
    this.bytesOut = families.bytesOut.labels(labels);
    this.batchesOut = families.batchesOut.labels(labels);
    this.truncated = families.truncated.labels(labels);
    this.invalidText = families.invalidText.labels(labels);
    this.redactions = families.redactions.labels(labels);
    this.requestDuration = families.requestDuration.labels(labels);
    this.retriedEvents = families.retriedEvents.labels(labels);
    this.bufferedBytes = families.bufferedBytes.labels(labels);
    this.bufferLimitBytes = families.bufferLimitBytes.labels(labels);
    this.queuedEvents = families.queuedEvents.labels(labels);
    this.compressionRatio = families.compressionRatio.labels(labels);
    this.checkpointAge = families.checkpointAge.labels(labels);
  }

  error(reason: ErrorReason, count = 1): void {
    this.families.errors.inc({ ...this.labels, reason }, count);
  }

  drop(reason: DropReason, count = 1): void {
    this.families.dropped.inc({ ...this.labels, reason }, count);
  }

  fileLag(file: string, bytes: number): void {
    this.families.lagBytes.set({ ...this.labels, file }, bytes);
  }

  consumerLag(topic: string, partition: number, messages: number): void {
    this.families.consumerLag.set({ ...this.labels, topic, partition: String(partition) }, messages);
  }

  forgetFile(file: string): void {
    this.families.lagBytes.remove({ ...this.labels, file });
  }
}
