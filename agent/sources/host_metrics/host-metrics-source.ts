import { errorMessage } from '../../../shared/errors.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import { emitMetricEvents, type MetricSourceDeps } from '../../metric-families/emit.js';
import { emptySampleCounts, familyEvents, MetricEventIds, type MetricEventContext } from '../../metric-families/to-raw-events.js';
import type { HostMetricsSourceConfig } from './config.js';
import { collectHostMetrics, createHostMetricsState, hostMetricsTargetLabels, type HostMetricsState } from './host-metrics.js';

/**
 * Host metrics without node_exporter: every `interval` (aligned to it, so
 * all agents' points share timestamps), the collectors read /proc and statfs
 * and the series go out as raw metric events labelled like a node_exporter
 * target (`job`, `instance` = the host name).
 */
export class HostMetricsSource implements Lifecycle {
  private readonly state: HostMetricsState = createHostMetricsState();
  private readonly ids: MetricEventIds;
  private readonly stopSignal = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly config: HostMetricsSourceConfig,
    private readonly deps: MetricSourceDeps,
  ) {
    this.ids = new MetricEventIds(`host_metrics\u0000${deps.agentId}\u0000${name}`);
  }

  async start(): Promise<void> {
    this.running ??= this.run();
    await Promise.resolve();
  }

  private async run(): Promise<void> {
    const { deps } = this;
    const interval = this.config.interval;
    let next = Date.now();
    while (!this.stopSignal.signal.aborted) {
      try {
        await this.collectOnce(next);
      } catch (error) {
        // One failed collection must not end the loop (and with it every later collection) or reject unhandled.
        deps.metrics.error('io');
        deps.logger.warn({ err: errorMessage(error) }, 'host metrics collection failed; the next runs on schedule');
      }
      next += interval;
      next -= next % interval;
      if (next <= Date.now()) next += Math.ceil((Date.now() - next) / interval) * interval;
      await sleep(next - Date.now(), this.stopSignal.signal);
    }
  }

  /** One collection, handed on; returns the number of events. */
  async collectOnce(timeMs = Date.now()): Promise<number> {
    const { deps } = this;
    const { families, errors } = await collectHostMetrics({ config: this.config, state: this.state });
    for (const { collector, error } of errors) {
      deps.metrics.error('io');
      deps.logger.warn({ collector, err: error }, 'host metrics collector failed; its series are missing from this collection');
    }
    const context: MetricEventContext = {
      host: deps.host,
      agentId: deps.agentId,
      source: { type: 'host_metrics', name: this.name, job: this.config.job, instance: deps.host },
      scrapeTimeMs: timeMs,
      honorTimestamps: false,
    };
    this.ids.beginScrape(timeMs);
    // A collection is a few hundred series: materialized, so the ids are settled before anything is handed on.
    const counts = emptySampleCounts();
    const events = [
      ...familyEvents(families, { ids: this.ids, context, targetLabels: hostMetricsTargetLabels(this.config, deps.host), honorLabels: false }, counts),
    ];
    this.ids.endScrape();
    if (counts.invalid > 0) {
      // A counter the kernel reports beyond what a raw event holds: that sample is refused and counted, the rest go on.
      deps.metrics.drop('sample_invalid', counts.invalid);
      deps.logger.warn({ samples: counts.invalid, reason: counts.firstInvalidReason }, 'host metric samples refused');
    }
    try {
      await emitMetricEvents(deps.consumer, `${this.config.job}\u0000${deps.host}`, events, deps.limits, (accepted) => deps.metrics.eventsOut.inc(accepted));
    } catch (error) {
      // A reading cannot be taken again: one the output refused is lost, so it is counted, not only logged.
      deps.metrics.error('io');
      deps.logger.warn({ err: errorMessage(error) }, 'host metrics not handed on (stopping)');
    }
    return events.length;
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.running;
  }
}
