import type { JsonNumber } from '../../../shared/record/raw-event.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import type { MetricRecord } from '../../../shared/record/metric-record.js';
import { dataObject, defineDataKey, getOwnDataKey, hasUnsafeKeySegment, type DataObject } from '../../../shared/record/key-path.js';

/**
 * Standard records as Elasticsearch documents with ECS names. Resource keys
 * (`host.name`, `service.name`, …) and log attributes (`log.file.path`,
 * `http.request.method`, …) are already ECS-like and become top-level fields;
 * metric attributes (Prometheus labels) go under `labels`. The fields the
 * record itself fills (`@timestamp`, `message`, `log.level`, `metric.*`, …)
 * always win.
 *
 * A key that cannot be placed without a mapping conflict goes under `labels`
 * with its dots replaced by `_` (ECS: label keys have no dots), instead of
 * failing the document:
 * - it collides with a field the record fills (an attribute `message.x`, `log.level`, `trace`);
 * - it is a scalar where an object must be: a key that is a prefix of another
 *   key of the same document (`host` beside `host.name`), or one of the ECS
 *   objects the installed mappings declare (`host`, `service`, `log`, …), which
 *   also keeps a lone `host: "a"` from mapping `host` as keyword and breaking
 *   every later `host.name`;
 * - it is not a field path (empty segment, a top-level `_` name, which
 *   Elasticsearch reserves for metadata);
 * - it has a `__proto__`, `constructor` or `prototype` segment
 *   (shared/record/key-path.ts): walking it would write onto a prototype
 *   (`x.__proto__.time` once set the time of every later record), so it is
 *   never walked and its value stays readable as the label `x___proto___time`;
 * - it has more than {@link MAX_FIELD_DEPTH} segments (Elasticsearch's default
 *   `index.mapping.depth.limit` would refuse the document; the flat label also
 *   keeps the work per key linear in its length).
 * When an attribute and a resource key are the same field, the attribute (the
 * more specific) wins.
 */

/** ECS (and OpenTelemetry) objects; the mappings declare them as objects, and a scalar at one of them goes to `labels`. */
export const OBJECT_FIELDS: readonly string[] = [
  'agent',
  'client',
  'cloud',
  'container',
  'data_stream',
  'deployment',
  'destination',
  'error',
  'event',
  'file',
  'host',
  'http',
  'k8s',
  'kubernetes',
  'labels',
  'log',
  'log.file',
  'metric',
  'network',
  'orchestrator',
  'os',
  'process',
  'server',
  'service',
  'source',
  'span',
  'telemetry',
  'trace',
  'tributary',
  'url',
  'user',
  'user_agent',
];

/** Fields a log record fills itself. */
const LOG_FIELDS = ['@timestamp', 'observed_timestamp', 'message', 'log.level', 'severity_number', 'trace.id', 'span.id', 'event.id', 'data_stream'];
/** Fields a metric record fills itself; `metric` and `data_stream` are whole subtrees. */
const METRIC_FIELDS = ['@timestamp', 'observed_timestamp', 'event.id', 'data_stream', 'metric'];

/** Segments of the deepest top-level field path: Elasticsearch's default `index.mapping.depth.limit`. */
export const MAX_FIELD_DEPTH = 20;

type Scalar = string | number | boolean;
type Json = Scalar | null | Json[] | { [key: string]: Json };
export type Document = Record<string, Json>;

/** What a data stream document says about its stream (ECS `data_stream.*`; Kibana filters on them). */
export interface DataStreamFields {
  type: string;
  dataset: string;
  namespace: string;
}

class PlacementRules {
  /** Paths that must stay objects: the ECS objects plus every proper prefix of a reserved field. */
  private readonly objects: Set<string>;

  constructor(private readonly reserved: readonly string[]) {
    this.objects = new Set(OBJECT_FIELDS);
    for (const field of reserved) for (const prefix of prefixes(field)) this.objects.add(prefix);
  }

  /** Whether `key` may be a top-level field path in a document whose other keys have the proper prefixes `taken`. */
  placeable(key: string, taken: ReadonlySet<string>): boolean {
    if (!walkable(key)) return false;
    if (key === '' || key.startsWith('_') || key.startsWith('.') || key.endsWith('.') || key.includes('..')) return false;
    if (this.objects.has(key) || taken.has(key)) return false;
    for (const field of this.reserved) if (key === field || key.startsWith(`${field}.`)) return false;
    return true;
  }
}

const LOG_RULES = new PlacementRules(LOG_FIELDS);
const METRIC_RULES = new PlacementRules(METRIC_FIELDS);

function* prefixes(path: string): Generator<string> {
  for (let dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', dot + 1)) yield path.slice(0, dot);
}

/**
 * Whether a key may be walked as a field path at all: no prototype segment,
 * and few enough segments that the prefixes of all keys stay linear in their
 * total length.
 */
function walkable(key: string): boolean {
  let dots = 0;
  for (let at = key.indexOf('.'); at >= 0 && dots < MAX_FIELD_DEPTH; at = key.indexOf('.', at + 1)) dots++;
  return dots < MAX_FIELD_DEPTH && !hasUnsafeKeySegment(key);
}

/** ECS label keys: no dots, so `labels` stays one flat object. */
function labelKey(key: string): string {
  return key.replaceAll('.', '_') || '_';
}

/**
 * Sets a dotted path in a nested object; callers have ruled out leaf/object
 * conflicts and unsafe segments ({@link walkable}). Objects it creates have no
 * prototype and reads are own-property only, so even a segment such as
 * `toString` is data.
 */
function setPath(document: Document, path: string, value: Json): void {
  const segments = path.split('.');
  let node: DataObject<Json> = document;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    let child = getOwnDataKey(node, segment);
    if (child === undefined || child === null || typeof child !== 'object' || Array.isArray(child)) {
      child = dataObject<Json>();
      defineDataKey(node, segment, child);
    }
    node = child;
  }
  defineDataKey(node, segments[segments.length - 1] as string, value);
}

/**
 * Places resource entries then attribute entries (so attributes win) at the top level of `document`, or in
 * `labels` where `toLabels` says so or the rules forbid the path.
 */
function placeEntries(
  document: Document,
  rules: PlacementRules,
  resource: Readonly<Record<string, string>>,
  attributes: Readonly<Record<string, Scalar>>,
  attributesToLabels: boolean,
): void {
  const taken = new Set<string>();
  const add = (key: string): void => {
    // A key that will not be walked claims no prefixes (and a deep one would cost its length times its depth).
    if (!walkable(key)) return;
    for (const prefix of prefixes(key)) taken.add(prefix);
  };
  for (const key of Object.keys(resource)) add(key);
  if (!attributesToLabels) for (const key of Object.keys(attributes)) add(key);
  // Keyed by data (a label may be called `__proto__`): no prototype.
  const labels = dataObject<Json>();
  const place = (key: string, value: Scalar, toLabels: boolean): void => {
    if (!toLabels && !key.startsWith('labels.') && rules.placeable(key, taken)) {
      setPath(document, key, value);
      return;
    }
    // `labels.env` is already a label: keep its name rather than turning it into `labels_env`.
    defineDataKey(labels, labelKey(key.startsWith('labels.') ? key.slice('labels.'.length) : key), value);
  };
  for (const [key, value] of Object.entries(resource)) place(key, value, false);
  for (const [key, value] of Object.entries(attributes)) place(key, value, attributesToLabels);
  if (Object.keys(labels).length > 0) document.labels = labels;
}

export function logDocument(record: LogRecord, stream?: DataStreamFields): Document {
  // The record's own fields first, so they lead in `_source`; placement never touches them.
  const document: Document = { '@timestamp': record.timestamp, observed_timestamp: record.observed_timestamp, message: record.body };
  if (record.severity_text !== undefined) document.log = { level: record.severity_text };
  document.severity_number = record.severity_number;
  if (record.trace_id !== undefined) document.trace = { id: record.trace_id };
  if (record.span_id !== undefined) document.span = { id: record.span_id };
  document.event = { id: record.id };
  if (stream) document.data_stream = { ...stream };
  placeEntries(document, LOG_RULES, record.resource, record.attributes, false);
  return document;
}

/**
 * Elasticsearch's numeric fields take only finite values: a NaN or infinite
 * value is written as text in `<name>_special` instead (a Prometheus summary
 * with no observations has NaN quantiles), so the document is still indexed.
 */
function putNumber(target: Record<string, Json>, name: string, value: JsonNumber | undefined): void {
  if (value === undefined) return;
  if (typeof value === 'number' && Number.isFinite(value)) target[name] = value;
  else target[`${name}_special`] = typeof value === 'number' ? String(value) : value;
}

export function metricDocument(record: MetricRecord, stream?: DataStreamFields): Document {
  const metric: Record<string, Json> = { name: record.name, type: record.type, prometheus_type: record.prometheus_type };
  if (record.unit !== undefined) metric.unit = record.unit;
  if (record.description !== undefined) metric.description = record.description;
  if (record.is_monotonic !== undefined) metric.monotonic = record.is_monotonic;
  if (record.aggregation_temporality !== undefined) metric.temporality = record.aggregation_temporality;
  if (record.start_timestamp !== undefined) metric.start_timestamp = record.start_timestamp;
  putNumber(metric, 'value', record.value);
  if (record.histogram) {
    const histogram: Record<string, Json> = {
      count: record.histogram.count,
      explicit_bounds: record.histogram.explicit_bounds,
      bucket_counts: record.histogram.bucket_counts,
    };
    putNumber(histogram, 'sum', record.histogram.sum);
    metric.histogram = histogram;
  }
  if (record.summary) {
    const summary: Record<string, Json> = {
      count: record.summary.count,
      quantile_values: record.summary.quantile_values.map(({ quantile, value }) => {
        const entry: Record<string, Json> = { quantile };
        putNumber(entry, 'value', value);
        return entry;
      }),
    };
    putNumber(summary, 'sum', record.summary.sum);
    metric.summary = summary;
  }
  const document: Document = { '@timestamp': record.timestamp, observed_timestamp: record.observed_timestamp, metric, event: { id: record.id } };
  if (stream) document.data_stream = { ...stream };
  placeEntries(document, METRIC_RULES, record.resource, record.attributes, true);
  return document;
}
