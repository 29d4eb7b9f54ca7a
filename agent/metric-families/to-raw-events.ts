import { createHash } from 'node:crypto';
import { TributaryError } from '../../shared/errors.js';
import { defineDataKey, getOwnDataKey } from '../../shared/record/key-path.js';
import type { JsonNumber, RawMetricEvent } from '../../shared/record/raw-event.js';
import type { Bucket, Labels, MetricFamily, Series } from './families.js';

export function jsonNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/**
 * The first and last millisecond RFC 3339 can write (years 0000-9999), which is what raw.metric.v1 times are and what
 * the collector accepts. A Date reaches further (±8.64e15 ms) and toISOString then writes `+275760-…`; beyond that,
 * or for NaN and ±Infinity, it throws a RangeError.
 */
export const MIN_EVENT_TIME_MS = -62_167_219_200_000;
export const MAX_EVENT_TIME_MS = 253_402_300_799_999;

/** RFC 3339 text (UTC, milliseconds) of `ms`, or undefined when RFC 3339 cannot hold it. Never throws. */
export function rfc3339FromMs(ms: number): string | undefined {
  // Comparisons are false for NaN, so NaN is refused too.
  if (!(ms >= MIN_EVENT_TIME_MS && ms <= MAX_EVENT_TIME_MS)) return undefined;
  return new Date(ms).toISOString();
}

/** A count the raw event (and the collector) can carry: a non-negative integer JSON holds exactly. */
function isEventCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * Why `series` cannot become a raw metric event, or undefined when it can. A scrape target may expose anything the
 * exposition grammar allows (`a 1 99999999999999999`, a bucket count of NaN); what raw.metric.v1 cannot hold is
 * refused here, counted as `sample_invalid` by the source, rather than thrown mid-scrape or shipped for the
 * collector to dead-letter. `_created` is checked apart (see {@link familyEvents}): a bad one costs only itself.
 */
export function invalidSeriesReason(series: Series, honorTimestamps: boolean): string | undefined {
  if (honorTimestamps && series.timestampMs !== undefined && rfc3339FromMs(series.timestampMs) === undefined) {
    return `timestamp ${String(series.timestampMs)} ms is outside years 0000-9999`;
  }
  switch (series.kind) {
    case 'value':
      return undefined;
    case 'histogram':
      // Buckets are ascending (the parser sorts them), so a bound given twice is next to itself.
      for (let index = 0; index < series.buckets.length; index++) {
        const bucket = series.buckets[index] as Bucket;
        if (!isEventCount(bucket.count)) return `bucket count ${String(bucket.count)} is not a non-negative integer`;
        if (!(Number.isFinite(bucket.le) || bucket.le === Infinity)) return `bucket bound ${String(bucket.le)}`;
        if (index > 0 && series.buckets[index - 1]?.le === bucket.le) return `bucket bound ${String(bucket.le)} given twice`;
      }
      break;
    case 'summary':
      for (const quantile of series.quantiles) {
        if (!(quantile.quantile >= 0 && quantile.quantile <= 1)) return `quantile ${String(quantile.quantile)} is outside [0, 1]`;
      }
      break;
  }
  if (series.count !== undefined && !isEventCount(series.count)) return `count ${String(series.count)} is not a non-negative integer`;
  return undefined;
}

/** The `_created` of `series` as RFC 3339, or undefined when it has none or RFC 3339 cannot hold it. */
function createdText(series: Series): string | undefined {
  return series.created === undefined ? undefined : rfc3339FromMs(series.created * 1000);
}

/** Series identity within a target: name and labels sorted by name (label order in an exposition is not meaningful). */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  // Plain sort compares UTF-16 code units, which is all a stable order needs (no locale-aware compare).
  const names = Object.keys(labels).sort();
  let key = name;
  for (const label of names) key += `\u0000${label}\u0001${labels[label] ?? ''}`;
  return key;
}

export interface MetricEventContext {
  host: string;
  agentId: string;
  source: RawMetricEvent['source'];
  /** When the scrape or collection started, ms since the epoch. */
  scrapeTimeMs: number;
  /** Whether a sample's own timestamp becomes the event time (Prometheus honor_timestamps). */
  honorTimestamps: boolean;
}

/**
 * Ids of metric events: `sha256(target, scrape time)` gives the first 64 bits,
 * `sha256(series key)` the last 64, so a replayed scrape has the same ids and
 * two series of one scrape never share one. Series hashes are cached per
 * target from one scrape to the next (series are mostly the same each time),
 * and the cache holds only the series of the latest scrape, so it cannot grow.
 */
export class MetricEventIds {
  private seriesHashes = new Map<string, string>();
  private nextHashes = new Map<string, string>();
  private scrapeTag = '';

  constructor(private readonly target: string) {}

  beginScrape(scrapeTimeMs: number): void {
    this.scrapeTag = createHash('sha256').update(`${this.target}\u0000${scrapeTimeMs}`).digest('hex').slice(0, 16);
    this.nextHashes = new Map();
  }

  /** Also reports whether the series was absent from the previous scrape (Prometheus's scrape_series_added). */
  id(key: string): { id: string; added: boolean } {
    let hash = this.nextHashes.get(key);
    if (hash !== undefined) return { id: this.scrapeTag + hash, added: false };
    hash = this.seriesHashes.get(key);
    const added = hash === undefined;
    hash ??= createHash('sha256').update(key).digest('hex').slice(0, 16);
    this.nextHashes.set(key, hash);
    return { id: this.scrapeTag + hash, added };
  }

  endScrape(): void {
    this.seriesHashes = this.nextHashes;
    this.nextHashes = new Map();
  }
}

/** The number of samples a series stands for in the exposition (Prometheus counts samples, not series). */
export function sampleCount(series: Series): number {
  const created = series.created === undefined ? 0 : 1;
  switch (series.kind) {
    case 'value':
      return 1 + created;
    case 'histogram':
      return series.buckets.length + (series.sum === undefined ? 0 : 1) + (series.count === undefined ? 0 : 1) + created;
    case 'summary':
      return series.quantiles.length + (series.sum === undefined ? 0 : 1) + (series.count === undefined ? 0 : 1) + created;
  }
}

/** The scrape time as text, formatted once per scrape rather than once per series. */
const observedAtCache = { ms: NaN, text: '' };

function observedAt(ms: number): string {
  if (observedAtCache.ms !== ms) {
    const text = rfc3339FromMs(ms);
    // The scrape's own clock, never the target's: only a broken schedule gets here, and it fails that scrape typed.
    if (text === undefined) throw new TributaryError('INTERNAL', `scrape time ${String(ms)} ms is not a representable time`);
    observedAtCache.ms = ms;
    observedAtCache.text = text;
  }
  return observedAtCache.text;
}

/**
 * `name` and `labels` are passed apart from `series` so relabelled ones need no copy of the series. Callers check the
 * series with {@link invalidSeriesReason} first; a time or `_created` RFC 3339 cannot hold is left out, never thrown.
 */
export function toRawMetricEvent(
  family: MetricFamily,
  series: Series,
  id: string,
  context: MetricEventContext,
  name: string = series.name,
  labels: Labels = series.labels,
): RawMetricEvent {
  const event: RawMetricEvent = {
    id,
    observed_at: observedAt(context.scrapeTimeMs),
    host: context.host,
    agent_id: context.agentId,
    source: context.source,
    name,
    type: family.type,
    labels,
  };
  if (context.honorTimestamps && series.timestampMs !== undefined) {
    const time = rfc3339FromMs(series.timestampMs);
    if (time !== undefined) event.time = time;
  }
  if (family.help !== undefined) event.help = family.help;
  if (family.unit !== undefined) event.unit = family.unit;
  switch (series.kind) {
    case 'value':
      event.value = jsonNumber(series.value);
      break;
    case 'histogram':
      event.buckets = series.buckets.map((bucket) => ({ le: jsonNumber(bucket.le), count: bucket.count }));
      if (series.sum !== undefined) event.sum = jsonNumber(series.sum);
      if (series.count !== undefined) event.count = series.count;
      break;
    case 'summary':
      event.quantiles = series.quantiles.map((quantile) => ({ quantile: quantile.quantile, value: jsonNumber(quantile.value) }));
      if (series.sum !== undefined) event.sum = jsonNumber(series.sum);
      if (series.count !== undefined) event.count = series.count;
      break;
  }
  const created = createdText(series);
  if (created !== undefined) event.created = created;
  return event;
}

/**
 * Labels a series ends up with, by Prometheus's rules (scrape.go,
 * mutateSampleLabels): target labels are attached; on a clash the target's
 * value wins and the series' value is kept as `exported_<name>` (prefixed
 * again until the name is free), unless `honorLabels`, in which case the
 * series' value wins. Empty values mean "no label" and are removed.
 */
export function attachTargetLabels(series: Labels, target: Labels, honorLabels: boolean): Labels {
  const labels: Labels = { ...series };
  let clash = false;
  let empty = false;
  for (const name in target) if (Object.hasOwn(series, name)) clash = true;
  if (!clash) {
    // The common case, by far: no scraped label shares a target label's name.
    for (const name in target) if (Object.hasOwn(target, name)) defineDataKey(labels, name, target[name] ?? '');
    for (const name in labels) if (labels[name] === '') empty = true;
    return empty ? Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== '')) : labels;
  }
  // Label names are data: own properties only, written so that `__proto__` and `constructor` are labels like any other.
  const conflicts: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(target)) {
    const existing = getOwnDataKey(labels, name);
    if (existing !== undefined && existing !== '') {
      if (honorLabels) continue;
      conflicts.push([name, existing]);
    }
    defineDataKey(labels, name, value);
  }
  conflicts.sort(([a], [b]) => a.length - b.length);
  for (const [name, value] of conflicts) {
    let exported = `exported_${name}`;
    while ((getOwnDataKey(labels, exported) ?? '') !== '') exported = `exported_${exported}`;
    defineDataKey(labels, exported, value);
  }
  return Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ''));
}

export interface FamiliesToEventsOptions {
  ids: MetricEventIds;
  context: MetricEventContext;
  targetLabels: Labels;
  honorLabels: boolean;
  /** metric_relabel_configs, seeing the series' name as `__name__`; undefined drops the series. */
  relabel?: (labels: Labels) => Labels | undefined;
}

/** Samples (not series) kept after relabelling, as Prometheus counts them, and those of series new since the previous scrape. */
export interface SampleCounts {
  samples: number;
  samplesAdded: number;
  /** Samples refused by {@link invalidSeriesReason} (and bad `_created` samples); the source counts them as `sample_invalid` drops. */
  invalid: number;
  /** Why the first refused sample was refused, for the one log line a scrape gets about them. */
  firstInvalidReason?: string;
}

export function emptySampleCounts(): SampleCounts {
  return { samples: 0, samplesAdded: 0, invalid: 0 };
}

/**
 * One collection or scrape's families → raw metric events with target labels
 * and stable ids, lazily: a consumer that serializes and frames as it goes
 * never holds a whole 100k-series scrape as objects. `counts` is complete once
 * the iteration ends.
 */
export function* familyEvents(families: readonly MetricFamily[], options: FamiliesToEventsOptions, counts: SampleCounts): Generator<RawMetricEvent> {
  const { ids, context, targetLabels, honorLabels, relabel } = options;
  for (const family of families) {
    for (const series of family.series) {
      let labels = attachTargetLabels(series.labels, targetLabels, honorLabels);
      let name = series.name;
      if (relabel) {
        const relabelled = relabel({ ...labels, __name__: name });
        if (relabelled === undefined) continue;
        name = getOwnDataKey(relabelled, '__name__') ?? name;
        labels = { ...relabelled };
        delete labels.__name__;
      }
      const invalid = invalidSeriesReason(series, context.honorTimestamps);
      if (invalid !== undefined) {
        counts.invalid += sampleCount(series);
        counts.firstInvalidReason ??= `${name}: ${invalid}`;
        continue;
      }
      const { id, added } = ids.id(seriesKey(name, labels));
      let samples = sampleCount(series);
      const event = toRawMetricEvent(family, series, id, context, name, labels);
      if (series.created !== undefined && event.created === undefined) {
        // The `_created` sample alone is refused; the series' values are good and kept.
        samples--;
        counts.invalid++;
        counts.firstInvalidReason ??= `${name}: _created ${String(series.created)} s is outside years 0000-9999`;
      }
      counts.samples += samples;
      if (added) counts.samplesAdded += samples;
      yield event;
    }
  }
}
