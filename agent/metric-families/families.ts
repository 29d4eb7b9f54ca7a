/**
 * The in-memory model of scraped metrics, shared by the exposition parser
 * (Prometheus text format and OpenMetrics) and the host metrics source, and
 * turned into raw metric events (`raw.metric.v1`) by `to-raw-events.ts`.
 *
 * One *family* is one `# TYPE` block; one *series* is one labelled member of
 * it. Histogram and summary series gather their `_bucket`/quantile, `_sum`,
 * `_count` (and OpenMetrics `_created`) samples into one series, because
 * consumers need a histogram's buckets together, not as unrelated numbers.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** Label names to values, in the order the exposition gave them. */
export type Labels = Record<string, string>;

export interface Bucket {
  /** Upper bound; `Infinity` for the `+Inf` bucket. */
  le: number;
  /** Cumulative count, as exposed. */
  count: number;
}

export interface Quantile {
  quantile: number;
  value: number;
}

interface SeriesBase {
  /**
   * The sample name as Prometheus stores it: for counters the `_total` name
   * (`http_requests_total`), for histograms and summaries the family name
   * without `_bucket`/`_sum`/`_count`, for the rest the sample name.
   */
  name: string;
  labels: Labels;
  /** Explicit sample timestamp from the exposition, ms since the epoch. */
  timestampMs?: number;
  /** OpenMetrics `_created`, seconds since the epoch. */
  created?: number;
}

/** counter, gauge, unknown (untyped), info and stateset members: one number. */
export interface ValueSeries extends SeriesBase {
  kind: 'value';
  /** May be NaN or ±Infinity. */
  value: number;
}

/** histogram and gaugehistogram. */
export interface HistogramSeries extends SeriesBase {
  kind: 'histogram';
  /** Ascending by `le`; the last is `+Inf` when the exposition had it. */
  buckets: Bucket[];
  sum?: number;
  count?: number;
}

export interface SummarySeries extends SeriesBase {
  kind: 'summary';
  quantiles: Quantile[];
  sum?: number;
  count?: number;
}

export type Series = ValueSeries | HistogramSeries | SummarySeries;

export interface MetricFamily {
  /** The family name from `# TYPE` (OpenMetrics counters: without `_total`), else the sample's name. */
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  series: Series[];
}
