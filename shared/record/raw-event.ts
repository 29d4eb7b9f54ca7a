/**
 * Raw events: what agents put in frames on the raw topics (schema `raw.log.v1`).
 * Agents only observe; parsing, timestamps from the line and severity belong
 * to the collector, so a parser change never needs an agent upgrade.
 */
export interface RawLogEvent {
  /** Stable id: the same line read again after a crash gets the same id. */
  id: string;
  /** When the agent read the line, RFC 3339 with milliseconds. */
  observed_at: string;
  body: string;
  host: string;
  agent_id: string;
  source: {
    type: 'file';
    /** The component id from the agent config. */
    name: string;
    path: string;
    /** Identity of the file independent of its path (see agent/sources/file). */
    file_id: string;
    /** Byte offset of the first byte of the line in the file. */
    offset: number;
  };
  /** Operator-configured labels and Kubernetes metadata from the path, copied into the record's resource by the collector. */
  labels?: Record<string, string>;
  /** The line was cut at max_line_bytes (or a multiline/partial record at its cap). */
  truncated?: true;
  /** Event time from a container runtime's envelope (CRI, Docker json-file), RFC 3339 with up to nanoseconds. */
  time?: string;
  /** Attributes from the line's envelope, e.g. `log.iostream: stderr`. */
  attributes?: Record<string, string>;
}

/**
 * A number as JSON: finite numbers as themselves, NaN and the infinities as
 * the strings Prometheus writes for them, because JSON has no literal for them.
 */
export type JsonNumber = number | 'NaN' | '+Inf' | '-Inf';

/**
 * Raw metric events (schema `raw.metric.v1`): one per series per scrape,
 * framed per scrape and keyed by target, so one target's series stay in order
 * in one partition. Histograms and summaries arrive whole (buckets, quantiles,
 * sum and count in one event). Values are as exposed: counters are not turned
 * into rates anywhere in the pipeline.
 */
export interface RawMetricEvent {
  /** Stable id from target, series and scrape time: a replayed scrape gets the same ids. */
  id: string;
  /** When the scrape started, RFC 3339 with milliseconds. */
  observed_at: string;
  /** The sample's own timestamp when the exposition gave one, RFC 3339 with milliseconds. */
  time?: string;
  host: string;
  agent_id: string;
  source: {
    type: 'prometheus_scrape' | 'host_metrics';
    /** The component id from the agent config. */
    name: string;
    job: string;
    instance: string;
  };
  /** Sample name as Prometheus stores it (counters keep `_total`; histograms and summaries the family name). */
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';
  help?: string;
  unit?: string;
  /** Every label after relabelling, including `job` and `instance`. */
  labels: Record<string, string>;
  /** counter, gauge, unknown, info, stateset. */
  value?: JsonNumber;
  /** histogram, gaugehistogram: cumulative counts by upper bound, ascending, as exposed. */
  buckets?: Array<{ le: JsonNumber; count: number }>;
  /** summary. */
  quantiles?: Array<{ quantile: number; value: JsonNumber }>;
  sum?: JsonNumber;
  count?: number;
  /** OpenMetrics `_created`, RFC 3339: when a counter, histogram or summary started counting. */
  created?: string;
}
