import type { LogRecord } from '../../../shared/record/log-record.js';
import type { MetricRecord } from '../../../shared/record/metric-record.js';
import type { JsonNumber } from '../../../shared/record/raw-event.js';
import { dataObject, defineDataKey } from '../../../shared/record/key-path.js';
import type { SolrOutputConfig } from './config.js';

/**
 * Standard records as Solr documents. The document's `id` is the record's
 * event id, Solr's uniqueKey: a replay overwrites a document instead of adding
 * a second one. Every other part of the record goes to a field whose name
 * says its type by a dynamic-field suffix (`timestamp_dt`, `severity_number_l`,
 * `body_t`, `attributes.http.route_s`, `resource.host.name_s`), so any
 * schema with Solr's usual typed dynamic fields takes any record, and a key
 * never meets a field of another type (the failure Elasticsearch calls a
 * mapping conflict). `mapping.fields` renames or drops parts; in `explicit`
 * mode only the parts it names are sent.
 *
 * Record paths (the keys of `mapping.fields`) and their default fields:
 * both: id → id, schema → schema_s, timestamp → timestamp_dt,
 *   observed_timestamp → observed_timestamp_dt, attributes.<key>, resource.<key>;
 * logs: severity_text → severity_text_s, severity_number → severity_number_l,
 *   body → body_t, trace_id → trace_id_s, span_id → span_id_s;
 * metrics: name → name_s, description → description_s, unit → unit_s,
 *   type → type_s, prometheus_type → prometheus_type_s, is_monotonic →
 *   monotonic_b, aggregation_temporality → temporality_s, start_timestamp →
 *   start_timestamp_dt, value → value_d (NaN/±Inf: value_special_s),
 *   histogram.count → histogram_count_l, histogram.sum → histogram_sum_d,
 *   histogram.explicit_bounds → histogram_bounds_ds, histogram.bucket_counts →
 *   histogram_counts_ls, summary.count → summary_count_l, summary.sum →
 *   summary_sum_d, summary.quantiles → summary_quantiles_ds, summary.values →
 *   summary_values_ds.
 *
 * Solr field names are flat: a key is never walked as a path, so a key such
 * as `x.__proto__.time` is just the field `attributes.x.__proto__.time_s`. The
 * document is still built as a prototype-free object (shared/record/key-path.ts)
 * so no field name, configured or from data, can reach a prototype.
 */

export type SolrValue = string | number | boolean | string[] | number[];
export type SolrDocument = Record<string, SolrValue>;
type Mapping = SolrOutputConfig['mapping'];

/** Dynamic-field names of attribute and resource keys: characters other than letters, digits, `_` and `.` become `_`. */
export function fieldStem(key: string): string {
  const stem = key.replace(/[^A-Za-z0-9_.]/g, '_');
  return stem === '' ? '_' : stem;
}

/** Solr's date format: UTC with a `Z` (millisecond precision); undefined for a timestamp Date cannot read. */
export function solrDate(timestamp: string): string | undefined {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  // Years beyond 9999 come out as +0YYYYY, which Solr refuses.
  return iso.startsWith('+') || iso.startsWith('-') ? undefined : iso;
}

/** A Prometheus special value as Java's Double.parseDouble reads it (what Solr's double fields parse strings with). */
function javaDouble(value: JsonNumber): number | string {
  if (typeof value === 'number') return value;
  return value === 'NaN' ? 'NaN' : value === '+Inf' ? 'Infinity' : '-Infinity';
}

class DocumentBuilder {
  readonly document: SolrDocument = dataObject<SolrValue>();

  constructor(readonly mapping: Mapping) {}

  /**
   * Puts `value` at the field for record path `path`: the one `mapping.fields` names, else (dynamic mode)
   * `defaultField`. An explicit `false`, or explicit mode without an entry, leaves it out; so does a field
   * already set (the first part to claim a field keeps it: two keys that differ only in characters `_` replaced).
   */
  put(path: string, defaultField: string, value: SolrValue | undefined): void {
    if (value === undefined) return;
    const configured = Object.hasOwn(this.mapping.fields, path) ? this.mapping.fields[path] : undefined;
    if (configured === false) return;
    const field = configured ?? (this.mapping.mode === 'dynamic' ? defaultField : undefined);
    if (field === undefined || Object.hasOwn(this.document, field)) return;
    defineDataKey(this.document, field, field.endsWith('_s') && typeof value === 'string' ? this.cut(value) : value);
  }

  /** A timestamp into a `_dt` field; one Solr could not parse goes as text to `<name>_raw_s` instead of failing the document. */
  putDate(path: string, stem: string, timestamp: string | undefined): void {
    if (timestamp === undefined) return;
    const date = solrDate(timestamp);
    if (date !== undefined) this.put(path, `${stem}_dt`, date);
    else this.put(path, `${stem}_raw_s`, timestamp);
  }

  /** A number into a `_d` field, or a NaN/±Inf as text into `<stem>_special_s` (a double field's NaN matches no range query). */
  putNumber(path: string, stem: string, value: JsonNumber | undefined): void {
    if (value === undefined) return;
    if (typeof value === 'number' && Number.isFinite(value)) this.put(path, `${stem}_d`, value);
    else this.put(path, `${stem}_special_s`, String(value));
  }

  putEntries(prefix: 'attributes' | 'resource', entries: Readonly<Record<string, string | number | boolean>>): void {
    for (const [key, value] of Object.entries(entries)) {
      // Every number is a double: a key that is 5 in one record and 5.5 in the next stays one field.
      const suffix = typeof value === 'string' ? '_s' : typeof value === 'number' ? '_d' : '_b';
      this.put(`${prefix}.${key}`, `${prefix}.${fieldStem(key)}${suffix}`, value);
    }
  }

  private cut(value: string): string {
    const max = this.mapping.max_string_chars;
    if (value.length <= max) return value;
    // Never split a surrogate pair.
    const end = /[\uD800-\uDBFF]/.test(value.charAt(max - 1)) ? max - 1 : max;
    return value.slice(0, end);
  }
}

function common(builder: DocumentBuilder, record: LogRecord | MetricRecord): void {
  // The id goes first and always (explicit mode too): it is the uniqueKey that makes replays idempotent.
  const idField = builder.mapping.fields.id;
  defineDataKey<SolrValue>(builder.document, typeof idField === 'string' ? idField : 'id', record.id);
  builder.put('schema', 'schema_s', record.schema);
  builder.putDate('timestamp', 'timestamp', record.timestamp);
  builder.putDate('observed_timestamp', 'observed_timestamp', record.observed_timestamp);
}

export function logDocument(record: LogRecord, mapping: Mapping): SolrDocument {
  const builder = new DocumentBuilder(mapping);
  common(builder, record);
  builder.put('severity_text', 'severity_text_s', record.severity_text);
  builder.put('severity_number', 'severity_number_l', record.severity_number);
  builder.put('body', 'body_t', record.body);
  builder.put('trace_id', 'trace_id_s', record.trace_id);
  builder.put('span_id', 'span_id_s', record.span_id);
  builder.putEntries('attributes', record.attributes);
  builder.putEntries('resource', record.resource);
  return builder.document;
}

export function metricDocument(record: MetricRecord, mapping: Mapping): SolrDocument {
  const builder = new DocumentBuilder(mapping);
  common(builder, record);
  builder.put('name', 'name_s', record.name);
  builder.put('description', 'description_s', record.description);
  builder.put('unit', 'unit_s', record.unit);
  builder.put('type', 'type_s', record.type);
  builder.put('prometheus_type', 'prometheus_type_s', record.prometheus_type);
  builder.put('is_monotonic', 'monotonic_b', record.is_monotonic);
  builder.put('aggregation_temporality', 'temporality_s', record.aggregation_temporality);
  builder.putDate('start_timestamp', 'start_timestamp', record.start_timestamp);
  builder.putNumber('value', 'value', record.value);
  if (record.histogram) {
    builder.put('histogram.count', 'histogram_count_l', record.histogram.count);
    builder.putNumber('histogram.sum', 'histogram_sum', record.histogram.sum);
    builder.put('histogram.explicit_bounds', 'histogram_bounds_ds', record.histogram.explicit_bounds);
    builder.put('histogram.bucket_counts', 'histogram_counts_ls', record.histogram.bucket_counts);
  }
  if (record.summary) {
    builder.put('summary.count', 'summary_count_l', record.summary.count);
    builder.putNumber('summary.sum', 'summary_sum', record.summary.sum);
    builder.put(
      'summary.quantiles',
      'summary_quantiles_ds',
      record.summary.quantile_values.map(({ quantile }) => quantile),
    );
    // NaN quantiles (a summary without observations) as Java reads them: a multi-valued double field takes "NaN".
    const values = record.summary.quantile_values.map(({ value }) => javaDouble(value));
    builder.put('summary.values', 'summary_values_ds', values.every((value) => typeof value === 'number') ? values : values.map(String));
  }
  builder.putEntries('attributes', record.attributes);
  builder.putEntries('resource', record.resource);
  return builder.document;
}
