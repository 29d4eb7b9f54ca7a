import { createHash } from 'node:crypto';
import { errorMessage } from '../../../shared/errors.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import type { BatchConsumer } from '../../../shared/pipeline/types.js';
import type { RawMetricEvent } from '../../../shared/record/raw-event.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import { emitMetricEvents, type EmitLimits } from '../../metric-families/emit.js';
import {
  emptySampleCounts,
  familyEvents,
  MetricEventIds,
  seriesKey,
  toRawMetricEvent,
  type MetricEventContext,
  type SampleCounts,
} from '../../metric-families/to-raw-events.js';
import type { ScrapeJobConfig } from './config.js';
import { formatFromContentType, parseExposition } from './exposition/exposition-parser.js';
import type { MetricRelabeler } from './relabel.js';
import { scrapeTarget, type ScrapeClientOptions } from './scrape-client.js';
import type { ScrapeTarget } from './targets.js';
import type { StatusRow } from '../../../shared/telemetry/status.js';

export interface ScrapeLoopDeps {
  sourceName: string;
  host: string;
  agentId: string;
  consumer: BatchConsumer;
  limits: EmitLimits;
  client: ScrapeClientOptions;
  relabel: MetricRelabeler | undefined;
  metrics: ComponentMetrics;
  logger: Logger;
  /** Mixed into the scrape offset so agents on different hosts do not scrape a shared target in lockstep. */
  jitterSeed: string;
}

export interface ScrapeReport {
  up: boolean;
  durationSeconds: number;
  samplesScraped: number;
  samplesPostRelabeling: number;
  /** Samples refused because a raw metric event cannot hold them (counted as `sample_invalid` drops); the rest are kept. */
  samplesInvalid: number;
  seriesAdded: number;
  events: number;
  error?: string;
}

/** Problems logged per scrape; the rest are only counted, so a broken target cannot flood the log. */
const LOGGED_PROBLEMS_PER_SCRAPE = 5;

/**
 * Scrapes one target on its interval and hands every scrape to the framer as
 * raw metric events, plus the series Prometheus adds itself (`up`,
 * `scrape_duration_seconds`, `scrape_samples_scraped`,
 * `scrape_samples_post_metric_relabeling`, `scrape_series_added`). Scrapes
 * start at a fixed offset within the interval derived from the target (as
 * Prometheus spreads them), never overlap, and a scrape that is still being
 * handed on when the next is due skips that tick rather than queueing it.
 */
export class ScrapeLoop {
  private readonly ids: MetricEventIds;
  private readonly stopSignal = new AbortController();
  private running: Promise<void> | undefined;
  /** The latest scrape's outcome and start, for the status page. */
  private last: { report: ScrapeReport; atMs: number } | undefined;

  constructor(
    readonly target: ScrapeTarget,
    private readonly job: ScrapeJobConfig,
    private readonly deps: ScrapeLoopDeps,
  ) {
    this.ids = new MetricEventIds(target.key);
  }

  /** Offset of this target's scrapes within the interval, stable across restarts. */
  get offsetMs(): number {
    const hash = createHash('sha256').update(`${this.deps.jitterSeed}\u0000${this.target.key}`).digest();
    return hash.readUInt32BE(0) % this.job.scrape_interval;
  }

  start(): void {
    this.running ??= this.run();
  }

  private async run(): Promise<void> {
    const interval = this.job.scrape_interval;
    const now = Date.now();
    let next = now - (now % interval) + this.offsetMs;
    if (next < now) next += interval;
    while (!this.stopSignal.signal.aborted) {
      if (!(await this.waitUntil(next))) break;
      // scrapeOnce reports every failure in its result; this guard is the last line, so that nothing a target sends
      // or a downstream failure does can end this loop (the target would never be scraped again) or reject unhandled.
      try {
        await this.scrapeOnce(next);
      } catch (error) {
        this.deps.metrics.error('scrape');
        this.deps.logger.error(
          { job: this.target.job, target: this.target.url, err: errorMessage(error) },
          'scrape failed unexpectedly; the next runs on schedule',
        );
      }
      next += interval;
      // A scrape that overran (backpressure from a full spool) skips the ticks it missed instead of bursting.
      const behind = Date.now() - next;
      if (behind > 0) next += Math.ceil(behind / interval) * interval;
    }
  }

  /** False when stopped while waiting. */
  private async waitUntil(time: number): Promise<boolean> {
    await sleep(time - Date.now(), this.stopSignal.signal);
    return !this.stopSignal.signal.aborted;
  }

  /**
   * Scrapes once with `startMs` as the scrape's time, hands the events on, and reports what happened. Never rejects:
   * a failed fetch or parse is `up` = 0 with the error, a sample raw.metric.v1 cannot hold is a counted
   * `sample_invalid` drop, and a failure while handing on is in `error`.
   */
  async scrapeOnce(startMs = Date.now()): Promise<ScrapeReport> {
    const report: ScrapeReport = {
      up: false,
      durationSeconds: 0,
      samplesScraped: 0,
      samplesPostRelabeling: 0,
      samplesInvalid: 0,
      seriesAdded: 0,
      events: 0,
    };
    try {
      await this.scrapeAndHandOn(startMs, report);
    } catch (error) {
      report.up = false;
      report.error = errorMessage(error);
      this.deps.metrics.error('scrape');
      this.deps.logger.warn({ job: this.target.job, target: this.target.url, err: report.error }, 'scrape not handed on');
    }
    this.last = { report, atMs: startMs };
    return report;
  }

  /** One row of the status page's target table. */
  statusRow(): StatusRow {
    const { last } = this;
    return {
      source: this.deps.sourceName,
      job: this.target.job,
      target: this.target.url,
      health: last === undefined ? 'not scraped yet' : last.report.up ? 'up' : 'down',
      last_scrape: last === undefined ? null : new Date(last.atMs).toISOString(),
      duration_seconds: last?.report.durationSeconds ?? null,
      samples: last?.report.samplesScraped ?? null,
      error: last?.report.error ?? null,
    };
  }

  private async scrapeAndHandOn(startMs: number, report: ScrapeReport): Promise<void> {
    const { job, target, deps } = this;
    // Only the timeout aborts a scrape: one in flight when the agent stops is finished and handed on, not lost.
    const signal = AbortSignal.timeout(job.scrape_timeout);
    this.ids.beginScrape(startMs);
    const context: MetricEventContext = {
      host: deps.host,
      agentId: deps.agentId,
      source: { type: 'prometheus_scrape', name: deps.sourceName, job: target.job, instance: target.labels.instance ?? '' },
      scrapeTimeMs: startMs,
      honorTimestamps: job.honor_timestamps,
    };
    const counts = emptySampleCounts();
    let seriesEvents: Iterable<RawMetricEvent> = [];
    const started = performance.now();
    try {
      const response = await inSpan('scrape', { 'server.address': target.labels.instance ?? '', 'tributary.job': target.job }, () =>
        scrapeTarget(target.url, deps.client, signal),
      );
      const parsed = parseExposition(response.body, formatFromContentType(response.contentType));
      report.samplesScraped = parsed.samples;
      if (parsed.problemCount > 0) this.reportProblems(parsed.problems, parsed.problemCount);
      const options = { ids: this.ids, context, targetLabels: target.labels, honorLabels: job.honor_labels, relabel: deps.relabel };
      if (job.sample_limit > 0) {
        // The limit fails the whole scrape, so it is known before anything is handed on (and bounds what is held).
        const events = [...familyEvents(parsed.families, options, counts)];
        if (counts.samples > job.sample_limit) {
          this.countInvalid(counts, report);
          deps.metrics.drop('sample_limit', events.length);
          throw new Error(`${counts.samples} samples exceed sample_limit ${job.sample_limit}`);
        }
        seriesEvents = events;
      } else {
        // Streamed into frames as it is built: a huge target is never held as one array of events.
        seriesEvents = familyEvents(parsed.families, options, counts);
      }
      report.up = true;
    } catch (error) {
      this.scrapeFailed(report, error);
    }
    report.durationSeconds = (performance.now() - started) / 1000;
    const scrape = this.scrapeEvents(seriesEvents, counts, context, report);
    try {
      report.events = await emitMetricEvents(deps.consumer, target.key, scrape, deps.limits, (accepted) => deps.metrics.eventsOut.inc(accepted));
    } finally {
      this.ids.endScrape();
    }
  }

  private scrapeFailed(report: ScrapeReport, error: unknown): void {
    report.up = false;
    report.error = errorMessage(error);
    this.deps.metrics.error('scrape');
    this.deps.logger.warn({ job: this.target.job, target: this.target.url, err: report.error }, 'scrape failed; up = 0');
  }

  /** Counts and logs (once per scrape) the samples familyEvents refused. */
  private countInvalid(counts: SampleCounts, report: ScrapeReport): void {
    report.samplesInvalid = counts.invalid;
    if (counts.invalid === 0) return;
    this.deps.metrics.drop('sample_invalid', counts.invalid);
    this.deps.logger.warn(
      { job: this.target.job, target: this.target.url, samples: counts.invalid, first: counts.firstInvalidReason },
      'refused samples a raw metric event cannot hold (counted as sample_invalid)',
    );
  }

  /** The target's series, then the synthetic ones, whose counts are known only once the series are done. */
  private *scrapeEvents(
    seriesEvents: Iterable<RawMetricEvent>,
    counts: SampleCounts,
    context: MetricEventContext,
    report: ScrapeReport,
  ): Generator<RawMetricEvent> {
    if (report.up) {
      try {
        yield* seriesEvents;
        this.countInvalid(counts, report);
      } catch (error) {
        // Conversion refuses bad samples rather than throwing; should anything still throw, the series handed on so
        // far stay handed on and the synthetic series say the scrape failed, rather than the error ending the loop.
        this.scrapeFailed(report, error);
      }
    }
    report.samplesPostRelabeling = report.up ? counts.samples : 0;
    report.seriesAdded = report.up ? counts.samplesAdded : 0;
    yield* this.syntheticSeries(context, report);
  }

  private *syntheticSeries(context: MetricEventContext, report: ScrapeReport): Generator<RawMetricEvent> {
    const synthetic: Array<[string, number, string]> = [
      ['up', report.up ? 1 : 0, '1 if the instance is healthy, i.e. reachable and its exposition parsed, else 0.'],
      ['scrape_duration_seconds', report.durationSeconds, 'Duration of the scrape.'],
      ['scrape_samples_scraped', report.samplesScraped, 'The number of samples the target exposed.'],
      ['scrape_samples_post_metric_relabeling', report.samplesPostRelabeling, 'The number of samples remaining after metric relabeling was applied.'],
      ['scrape_series_added', report.seriesAdded, 'The approximate number of new series in this scrape.'],
    ];
    for (const [name, value, help] of synthetic) {
      const labels = { ...this.target.labels };
      const { id } = this.ids.id(seriesKey(name, labels));
      yield toRawMetricEvent({ name, type: 'gauge', help, series: [] }, { kind: 'value', name, labels, value }, id, context);
    }
  }

  private reportProblems(problems: ReadonlyArray<{ line: number; reason: string; text: string }>, count: number): void {
    this.deps.metrics.error('exposition_line', count);
    for (const problem of problems.slice(0, LOGGED_PROBLEMS_PER_SCRAPE)) {
      this.deps.logger.warn(
        { job: this.target.job, target: this.target.url, line: problem.line, reason: problem.reason, text: problem.text },
        'skipped malformed exposition line',
      );
    }
    if (count > LOGGED_PROBLEMS_PER_SCRAPE) {
      this.deps.logger.warn(
        { job: this.target.job, target: this.target.url, skipped: count },
        'more malformed exposition lines skipped (counted in tributary_component_errors_total)',
      );
    }
  }

  /** Stops scheduling and waits for a scrape in progress (at most scrape_timeout) to be handed on. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.running;
  }
}
