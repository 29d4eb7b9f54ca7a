import { createHash } from 'node:crypto';
import type { JsonNumber, RawMetricEvent } from '../../shared/record/raw-event.js';
import type { Labels, MetricFamily, Series } from './families.js';

export function jsonNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
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
    observedAtCache.ms = ms;
    observedAtCache.text = isoFromMs(ms);
  }
  return observedAtCache.text;
}

/** `name` and `labels` are passed apart from `series` so relabelled ones need no copy of the series. */
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
  if (context.honorTimestamps && series.timestampMs !== undefined) event.time = isoFromMs(series.timestampMs);
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
  if (series.created !== undefined && Number.isFinite(series.created)) event.created = isoFromMs(series.created * 1000);
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
    Object.assign(labels, target);
    for (const name in labels) if (labels[name] === '') empty = true;
    return empty ? Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== '')) : labels;
  }
  const conflicts: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(target)) {
    const existing = labels[name];
    if (existing !== undefined && existing !== '') {
      if (honorLabels) continue;
      conflicts.push([name, existing]);
    }
    labels[name] = value;
  }
  conflicts.sort(([a], [b]) => a.length - b.length);
  for (const [name, value] of conflicts) {
    let exported = `exported_${name}`;
    while ((labels[exported] ?? '') !== '') exported = `exported_${exported}`;
    labels[exported] = value;
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
        name = relabelled.__name__ ?? name;
        labels = { ...relabelled };
        delete labels.__name__;
      }
      const { id, added } = ids.id(seriesKey(name, labels));
      const samples = sampleCount(series);
      counts.samples += samples;
      if (added) counts.samplesAdded += samples;
      yield toRawMetricEvent(family, series, id, context, name, labels);
    }
  }
}
