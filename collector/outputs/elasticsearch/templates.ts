import { createHash } from 'node:crypto';
import type { ElasticsearchOutputConfig } from './config.js';
import { OBJECT_FIELDS } from './document.js';
import { templatePattern } from './index-name.js';

/**
 * The component and index templates installed at start-up (`PUT
 * _component_template/…`, `PUT _index_template/…`): the same requests work on
 * Elasticsearch 7.10+/8/9 and OpenSearch 2.x, so only field types both know are
 * used (no `flattened`, `constant_keyword`, `match_only_text` or `histogram`).
 *
 * The mappings keep dynamic mapping from exploding or drifting: strings are
 * `keyword` (not text + keyword), every number is `double` (a first integer
 * must not make a later 0.5 truncate to 0), date and numeric detection are off
 * (a first value that looks like a date must not make later text fail), and
 * the ECS objects are declared as objects so a stray scalar cannot claim them.
 */

/** Above Elasticsearch's built-in `logs-*-*` / `metrics-*-*` (100), below Fleet integrations' templates (200). */
const BASE_PRIORITY = 150;
const TEMPLATE_VERSION = 1;
const KEYWORD = { type: 'keyword', ignore_above: 1024 } as const;
const META = { managed_by: 'tributary', description: 'Installed by the Tributary collector; reinstalled at each start.' } as const;

type Mapping = Record<string, unknown>;

/** Sets `path` (dotted) in a `properties` tree, creating intermediate objects. */
function define(properties: Record<string, Mapping>, path: string, mapping: Mapping): void {
  const segments = path.split('.');
  let node = properties;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const existing = (node[segment] ??= { type: 'object' });
    node = (existing.properties ??= {}) as Record<string, Mapping>;
  }
  const last = segments[segments.length - 1] as string;
  node[last] = { ...mapping, ...(node[last]?.properties ? { properties: node[last].properties } : {}) };
}

function baseMappings(fields: Record<string, Mapping>): Mapping {
  const properties: Record<string, Mapping> = {};
  for (const path of OBJECT_FIELDS) define(properties, path, { type: 'object' });
  define(properties, '@timestamp', { type: 'date' });
  define(properties, 'observed_timestamp', { type: 'date' });
  define(properties, 'event.id', KEYWORD);
  for (const part of ['type', 'dataset', 'namespace']) define(properties, `data_stream.${part}`, KEYWORD);
  for (const [path, mapping] of Object.entries(fields)) define(properties, path, mapping);
  return {
    dynamic: true,
    date_detection: false,
    numeric_detection: false,
    dynamic_templates: [
      { labels_as_keyword: { path_match: 'labels.*', mapping: KEYWORD } },
      { strings_as_keyword: { match_mapping_type: 'string', mapping: KEYWORD } },
      { integers_as_double: { match_mapping_type: 'long', mapping: { type: 'double' } } },
      { floats_as_double: { match_mapping_type: 'double', mapping: { type: 'double' } } },
    ],
    properties,
  };
}

export function logMappings(): Mapping {
  return baseMappings({
    message: { type: 'text' },
    'log.level': KEYWORD,
    severity_number: { type: 'byte' },
    'trace.id': KEYWORD,
    'span.id': KEYWORD,
  });
}

export function metricMappings(): Mapping {
  const special = KEYWORD;
  return baseMappings({
    'metric.name': KEYWORD,
    'metric.type': KEYWORD,
    'metric.prometheus_type': KEYWORD,
    'metric.unit': KEYWORD,
    // HELP text: kept in _source for display, not worth an index per data point.
    'metric.description': { type: 'keyword', index: false, doc_values: false },
    'metric.monotonic': { type: 'boolean' },
    'metric.temporality': KEYWORD,
    'metric.start_timestamp': { type: 'date' },
    'metric.value': { type: 'double' },
    'metric.value_special': special,
    'metric.histogram.count': { type: 'long' },
    'metric.histogram.sum': { type: 'double' },
    'metric.histogram.sum_special': special,
    'metric.histogram.explicit_bounds': { type: 'double' },
    'metric.histogram.bucket_counts': { type: 'long' },
    'metric.summary.count': { type: 'long' },
    'metric.summary.sum': { type: 'double' },
    'metric.summary.sum_special': special,
    'metric.summary.quantile_values.quantile': { type: 'double' },
    'metric.summary.quantile_values.value': { type: 'double' },
    'metric.summary.quantile_values.value_special': special,
  });
}

export type RecordKind = 'logs' | 'metrics';

export interface TemplateRequest {
  readonly method: 'PUT';
  readonly path: string;
  readonly body: Record<string, unknown>;
}

export const COMPONENT_TEMPLATE: Readonly<Record<RecordKind, string>> = { logs: 'tributary-logs-mappings', metrics: 'tributary-metrics-mappings' };

/**
 * Named by what they match, not by output id: two outputs or collectors with
 * the same layout share one template, and a changed layout adds a template
 * instead of replacing the one existing data streams still need
 * (Elasticsearch refuses to leave a data stream without a matching template).
 */
export function templateName(pattern: string, kinds: readonly RecordKind[], mode: ElasticsearchOutputConfig['mode']): string {
  const hash = createHash('sha256')
    .update(`${pattern}|${kinds.join(',')}|${mode}`)
    .digest('hex')
    .slice(0, 8);
  return `tributary-${pattern.replace(/^tributary-/, '').replace(/\*/g, '_')}-${hash}`;
}

/**
 * A more specific pattern gets a higher priority (150 plus its literal length, at most 199): overlapping
 * templates of equal priority are an error in Elasticsearch, and a new, wider pattern (a dataset changed from
 * `generic` to `{resource.service.name}`) must not fail start-up beside the old one.
 */
export function templatePriority(pattern: string): number {
  return BASE_PRIORITY + Math.min(pattern.replace(/\*/g, '').length, 49);
}

/** Where each kind of record lands, as an index pattern. */
function patterns(config: ElasticsearchOutputConfig): Record<RecordKind, string> {
  if (config.mode === 'index') return { logs: templatePattern(config.index.logs), metrics: templatePattern(config.index.metrics) };
  const { dataset, namespace } = config.data_stream;
  const name = (type: RecordKind): string => `${config.data_stream.type ?? type}-${templatePattern(dataset)}-${templatePattern(namespace)}`;
  return { logs: name('logs'), metrics: name('metrics') };
}

/**
 * The requests that install this output's templates, in order: component
 * templates first (index templates refer to them). Kinds whose records land
 * under the same pattern share one index template composed of both mappings.
 */
export function templateRequests(outputId: string, config: ElasticsearchOutputConfig): TemplateRequest[] {
  const byPattern = new Map<string, RecordKind[]>();
  const kinds: RecordKind[] = ['logs', 'metrics'];
  const where = patterns(config);
  for (const kind of kinds) {
    const list = byPattern.get(where[kind]) ?? [];
    list.push(kind);
    byPattern.set(where[kind], list);
  }
  const requests: TemplateRequest[] = [
    {
      method: 'PUT',
      path: `/_component_template/${COMPONENT_TEMPLATE.logs}`,
      body: { template: { mappings: logMappings() }, version: TEMPLATE_VERSION, _meta: META },
    },
    {
      method: 'PUT',
      path: `/_component_template/${COMPONENT_TEMPLATE.metrics}`,
      body: { template: { mappings: metricMappings() }, version: TEMPLATE_VERSION, _meta: META },
    },
  ];
  for (const [pattern, group] of byPattern) {
    const body: Record<string, unknown> = {
      index_patterns: [pattern],
      priority: templatePriority(pattern),
      composed_of: group.map((kind) => COMPONENT_TEMPLATE[kind]),
      template: { settings: { 'index.mapping.total_fields.limit': 2000, ...config.template_settings } },
      version: TEMPLATE_VERSION,
      _meta: { ...META, output: outputId },
    };
    // Data streams need `create` and an `@timestamp`; both are always there.
    if (config.mode === 'data_stream') body.data_stream = {};
    requests.push({ method: 'PUT', path: `/_index_template/${templateName(pattern, group, config.mode)}`, body });
  }
  return requests;
}
