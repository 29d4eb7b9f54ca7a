import { dataCopy } from '../data-keys.js';
import { TributaryError } from '../../../shared/errors.js';
import type { MetricRecord } from '../../../shared/record/metric-record.js';
import type { JsonNumber, RawMetricEvent } from '../../../shared/record/raw-event.js';

type PrometheusType = RawMetricEvent['type'];

const PROMETHEUS_TYPES: ReadonlySet<string> = new Set<PrometheusType>([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'unknown',
]);
const VALUE_TYPES: ReadonlySet<unknown> = new Set<PrometheusType>(['counter', 'gauge', 'unknown', 'info', 'stateset']);
const SOURCE_TYPES: ReadonlySet<unknown> = new Set<RawMetricEvent['source']['type']>(['prometheus_scrape', 'host_metrics']);
const NON_FINITE: ReadonlySet<unknown> = new Set<JsonNumber>(['NaN', '+Inf', '-Inf']);

/** The record `type` of each exposed type (OpenTelemetry's Prometheus mapping; see MetricRecord). */
const RECORD_TYPE: Record<PrometheusType, MetricRecord['type']> = {
  counter: 'sum',
  gauge: 'gauge',
  unknown: 'gauge',
  info: 'gauge',
  stateset: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'histogram',
  summary: 'summary',
};

/** Ids are the 32-hex event ids of shared/record/event-id.ts; the published schema requires that form. */
const EVENT_ID = /^[0-9a-f]{32}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function isRecordOf(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 3339 as JSON Schema's `date-time` means it; Date.parse alone takes other forms and rolls Feb 30 over to March. */
function isRfc3339(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = RFC3339.exec(value);
  if (!match || Number.isNaN(Date.parse(value))) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
}

function isJsonNumber(value: unknown): value is JsonNumber {
  return (typeof value === 'number' && Number.isFinite(value)) || NON_FINITE.has(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecordOf(value) && Object.values(value).every((entry) => typeof entry === 'string');
}

/** Bucket bounds are finite numbers or `+Inf`, counts non-negative integers, and no bound appears twice. */
function validBuckets(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  const seen = new Set<number | string>();
  for (const bucket of value as unknown[]) {
    if (!isRecordOf(bucket) || !isCount(bucket.count)) return false;
    const le = bucket.le;
    if (!((typeof le === 'number' && Number.isFinite(le)) || le === '+Inf') || seen.has(le)) return false;
    seen.add(le);
  }
  return true;
}

function validQuantiles(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  return (value as unknown[]).every(
    (entry) => isRecordOf(entry) && typeof entry.quantile === 'number' && entry.quantile >= 0 && entry.quantile <= 1 && isJsonNumber(entry.value),
  );
}

/**
 * Checks every field normalization relies on; frames come from the network and
 * are trusted for nothing. The error names the event and each bad field, so a
 * dead letter says what to fix.
 */
export function asRawMetricEvent(value: unknown): RawMetricEvent {
  if (!isRecordOf(value)) throw new TributaryError('FRAME_INVALID', 'raw metric event is not a JSON object');
  const { id, source, type, buckets, count } = value;
  const problems: string[] = [];
  const check = (field: string, valid: boolean): void => {
    if (!valid) problems.push(field);
  };
  const optional = (field: string, valid: (entry: unknown) => boolean): void => check(field, value[field] === undefined || valid(value[field]));
  check('id', typeof id === 'string' && EVENT_ID.test(id));
  check('observed_at', isRfc3339(value.observed_at));
  optional('time', isRfc3339);
  check('host', typeof value.host === 'string');
  check('agent_id', typeof value.agent_id === 'string');
  check(
    'source',
    isRecordOf(source) &&
      SOURCE_TYPES.has(source.type) &&
      typeof source.name === 'string' &&
      typeof source.job === 'string' &&
      typeof source.instance === 'string',
  );
  check('name', typeof value.name === 'string' && value.name !== '');
  check('type', typeof type === 'string' && PROMETHEUS_TYPES.has(type));
  optional('help', (entry) => typeof entry === 'string');
  optional('unit', (entry) => typeof entry === 'string');
  check('labels', isStringMap(value.labels));
  optional('sum', isJsonNumber);
  optional('count', isCount);
  optional('created', isRfc3339);
  if (VALUE_TYPES.has(type)) check('value', isJsonNumber(value.value));
  if (type === 'histogram' || type === 'gaugehistogram') {
    check('buckets', validBuckets(buckets));
    // Prometheus' `_count` is the +Inf bucket's count, so either gives the total; with neither it is unknown.
    const hasInf = Array.isArray(buckets) && (buckets as unknown[]).some((bucket) => isRecordOf(bucket) && bucket.le === '+Inf');
    if (count === undefined && !hasInf) problems.push('count');
  }
  if (type === 'summary') {
    check('quantiles', validQuantiles(value.quantiles));
    // OpenTelemetry drops a summary without `_count`; here it is a dead letter, so the loss is visible.
    if (count === undefined) problems.push('count');
  }
  if (problems.length > 0) {
    throw new TributaryError(
      'FRAME_INVALID',
      `raw metric event ${typeof id === 'string' && id !== '' ? id : '(no id)'} has missing or invalid fields: ${problems.join(', ')}`,
    );
  }
  return value as unknown as RawMetricEvent;
}

/**
 * Cumulative Prometheus buckets → OpenTelemetry explicit bounds with per-bucket
 * counts. The total (the overflow bucket's cumulative count) is `count`, or the
 * `+Inf` bucket's count when `count` is absent; a histogram without `+Inf` gets
 * an overflow bucket holding `count` minus the last finite bucket.
 *
 * Counts that decrease from one bound to the next (a client library reading its
 * buckets non-atomically) are made non-decreasing the way Prometheus'
 * `histogram_quantile` does: a dip takes the previous count. So no bucket count
 * is negative and `bucket_counts` always sums to `count`, which is raised to the
 * largest bucket count if it was below it.
 */
export function toExplicitBuckets(
  buckets: readonly { le: JsonNumber; count: number }[],
  count: number | undefined,
): { count: number; explicit_bounds: number[]; bucket_counts: number[] } {
  const finite = buckets.filter((bucket): bucket is { le: number; count: number } => typeof bucket.le === 'number').sort((a, b) => a.le - b.le);
  const total = count ?? buckets.find((bucket) => bucket.le === '+Inf')?.count ?? 0;
  const explicitBounds: number[] = [];
  const bucketCounts: number[] = [];
  let previous = 0;
  for (const bucket of finite) {
    const cumulative = Math.max(bucket.count, previous);
    explicitBounds.push(bucket.le);
    bucketCounts.push(cumulative - previous);
    previous = cumulative;
  }
  const overall = Math.max(total, previous);
  bucketCounts.push(overall - previous);
  return { count: overall, explicit_bounds: explicitBounds, bucket_counts: bucketCounts };
}

/**
 * Raw metric event (checked by asRawMetricEvent) → standard record
 * (tributary.metric.v1). `job` and `instance` leave the attributes for the
 * resource, as OpenTelemetry's Prometheus receiver does; the series' own labels
 * win over the source's job/instance because they are what relabelling kept.
 */
export function normalizeMetricEvent(raw: RawMetricEvent, staticResource: Readonly<Record<string, string>> = {}): MetricRecord {
  const { job: labelJob, instance: labelInstance, ...labels } = raw.labels;
  // `__proto__`, `constructor` and `prototype` are valid Prometheus label names: kept as data, under safe keys.
  const attributes = dataCopy(labels);
  const job = labelJob ?? raw.source.job;
  const instance = labelInstance ?? raw.source.instance;
  const type = RECORD_TYPE[raw.type];
  const record: MetricRecord = {
    schema: 'tributary.metric.v1',
    id: raw.id,
    name: raw.name,
    type,
    prometheus_type: raw.type,
    timestamp: raw.time ?? raw.observed_at,
    observed_timestamp: raw.observed_at,
    attributes,
    resource: Object.assign(dataCopy(staticResource), {
      job,
      instance,
      'service.name': job,
      'service.instance.id': instance,
      'host.name': raw.host,
      'tributary.agent.id': raw.agent_id,
    }),
  };
  if (raw.help !== undefined && raw.help !== '') record.description = raw.help;
  if (raw.unit !== undefined && raw.unit !== '') record.unit = raw.unit;
  if (raw.created !== undefined) record.start_timestamp = raw.created;
  if (type === 'sum') {
    record.is_monotonic = true;
    record.aggregation_temporality = 'cumulative';
  }
  if (type === 'gauge' || type === 'sum') {
    // asRawMetricEvent guarantees a value for every type that maps to gauge or sum.
    record.value = raw.value;
  } else if (type === 'histogram') {
    if (raw.type === 'histogram') record.aggregation_temporality = 'cumulative';
    const { count, explicit_bounds: explicitBounds, bucket_counts: bucketCounts } = toExplicitBuckets(raw.buckets ?? [], raw.count);
    record.histogram = { count, ...(raw.sum === undefined ? {} : { sum: raw.sum }), explicit_bounds: explicitBounds, bucket_counts: bucketCounts };
  } else {
    record.summary = {
      count: raw.count ?? 0,
      ...(raw.sum === undefined ? {} : { sum: raw.sum }),
      quantile_values: (raw.quantiles ?? []).map(({ quantile, value }) => ({ quantile, value })),
    };
  }
  return record;
}
