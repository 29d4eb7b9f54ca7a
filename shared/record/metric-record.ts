import type { JsonNumber } from './raw-event.js';

/**
 * The standard metric record (schema `tributary.metric.v1`), after the
 * OpenTelemetry metric data model: one data point per record, published on
 * `tributary.metrics`, one JSON document per Kafka message; the JSON Schema
 * beside this file is the contract for consumers in any language.
 *
 * Prometheus types map as OpenTelemetry's Prometheus receiver maps them:
 * counter → monotonic cumulative `sum`; gauge, unknown, info, stateset →
 * `gauge`; histogram and gaugehistogram → `histogram`; summary → `summary`.
 * `prometheus_type` keeps the exposed type for consumers that need it.
 */
export interface MetricRecord {
  schema: 'tributary.metric.v1';
  id: string;
  name: string;
  /** The exposition's HELP text. */
  description?: string;
  /** The exposition's UNIT, as exposed (not translated to UCUM). */
  unit?: string;
  type: 'gauge' | 'sum' | 'histogram' | 'summary';
  prometheus_type: 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';
  /** Sums only: counters are monotonic. */
  is_monotonic?: boolean;
  /**
   * Sums and histograms from Prometheus histograms: values are cumulative since
   * `start_timestamp` (or the process start). Absent for gaugehistograms, whose
   * buckets describe the current distribution rather than an accumulation.
   */
  aggregation_temporality?: 'cumulative';
  /** The data point's time (the sample's timestamp, else the scrape time), RFC 3339. */
  timestamp: string;
  /** When the agent scraped the target, RFC 3339. */
  observed_timestamp: string;
  /** When a cumulative series started counting (OpenMetrics `_created`), RFC 3339. */
  start_timestamp?: string;
  /** gauge and sum. */
  value?: JsonNumber;
  /** histogram: OpenTelemetry's explicit-bounds form (per-bucket counts, not cumulative). */
  histogram?: {
    /** Always the sum of bucket_counts. */
    count: number;
    sum?: JsonNumber;
    /** Finite upper bounds, ascending. */
    explicit_bounds: number[];
    /** explicit_bounds.length + 1 counts; the last is the overflow (+Inf) bucket. */
    bucket_counts: number[];
  };
  summary?: {
    count: number;
    sum?: JsonNumber;
    quantile_values: Array<{ quantile: number; value: JsonNumber }>;
  };
  /** The series' labels other than job and instance. */
  attributes: Record<string, string>;
  /** job, instance, service.name (= job), service.instance.id (= instance), host.name, tributary.agent.id, the collector's static resource. */
  resource: Record<string, string>;
}
