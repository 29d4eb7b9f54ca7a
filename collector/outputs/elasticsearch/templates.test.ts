import { describe, expect, it } from 'vitest';
import { elasticsearchOutputSchema } from './config.js';
import { logMappings, metricMappings, templateName, templatePriority, templateRequests } from './templates.js';

const config = (extra: Record<string, unknown> = {}) => elasticsearchOutputSchema.parse({ type: 'elasticsearch', endpoints: ['http://es:9200'], ...extra });

describe('templates', () => {
  it('install both component templates, then one data stream index template per record kind', () => {
    const requests = templateRequests(
      'es',
      config({ data_stream: { dataset: '{resource.service.name}' }, template_settings: { 'index.number_of_replicas': 0 } }),
    );
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'PUT /_component_template/tributary-logs-mappings',
      'PUT /_component_template/tributary-metrics-mappings',
      `PUT /_index_template/${templateName('logs-*-default', ['logs'], 'data_stream')}`,
      `PUT /_index_template/${templateName('metrics-*-default', ['metrics'], 'data_stream')}`,
    ]);
    expect(requests[2]?.path).toMatch(/^\/_index_template\/tributary-logs-_-default-[0-9a-f]{8}$/);
    expect(requests[2]?.body).toMatchObject({
      index_patterns: ['logs-*-default'],
      priority: 150 + 'logs--default'.length,
      composed_of: ['tributary-logs-mappings'],
      data_stream: {},
      template: { settings: { 'index.mapping.total_fields.limit': 2000, 'index.number_of_replicas': 0 } },
      _meta: { managed_by: 'tributary', output: 'es' },
    });
    expect(requests[3]?.body).toMatchObject({ index_patterns: ['metrics-*-default'], composed_of: ['tributary-metrics-mappings'] });
  });

  it('in index mode match the dated names and are no data streams; one template when both kinds share a pattern', () => {
    const split = templateRequests('es', config({ mode: 'index' }));
    expect(split.slice(2).map((request) => request.body.index_patterns)).toEqual([['tributary-logs-*.*.*'], ['tributary-metrics-*.*.*']]);
    expect(split[2]?.body.data_stream).toBeUndefined();
    const shared = templateRequests('es', config({ mode: 'index', index: 'everything-%Y' }));
    expect(shared.slice(2)).toEqual([expect.objectContaining({ path: `/_index_template/${templateName('everything-*', ['logs', 'metrics'], 'index')}` })]);
    expect(templateName('tributary-logs-*.*.*', ['logs'], 'index')).toMatch(/^tributary-logs-_\._\._-[0-9a-f]{8}$/);
    expect(shared[2]?.body.composed_of).toEqual(['tributary-logs-mappings', 'tributary-metrics-mappings']);
  });

  it('are named by what they match, so outputs share them and a changed layout adds one instead of orphaning data streams', () => {
    const first = templateRequests('a', config({ data_stream: { namespace: 'prod' } }))[2];
    const same = templateRequests('b', config({ data_stream: { namespace: 'prod' } }))[2];
    const changed = templateRequests('a', config({ data_stream: { namespace: 'staging' } }))[2];
    expect(same?.path).toBe(first?.path);
    expect(changed?.path).not.toBe(first?.path);
    expect(templateName('logs-x-y', ['logs'], 'data_stream')).not.toBe(templateName('logs-x-y', ['logs'], 'index'));
  });

  it('give a more specific pattern a higher priority, between the built-in templates (100) and Fleet integrations (200)', () => {
    expect(templatePriority('logs-generic-default')).toBeGreaterThan(templatePriority('logs-*-default'));
    expect(templatePriority('logs-*-*')).toBeGreaterThan(100);
    expect(templatePriority('x'.repeat(300))).toBe(199);
  });

  it('map the standard fields and keep dynamic mapping from drifting', () => {
    const logs = logMappings() as { properties: Record<string, { properties?: Record<string, unknown>; type?: string }>; dynamic_templates: unknown[] };
    expect(logs).toMatchObject({ dynamic: true, date_detection: false, numeric_detection: false });
    expect(logs.properties['@timestamp']).toEqual({ type: 'date' });
    expect(logs.properties.message).toEqual({ type: 'text' });
    expect(logs.properties.log?.properties?.level).toEqual({ type: 'keyword', ignore_above: 1024 });
    expect(logs.properties.log?.properties?.file).toEqual({ type: 'object' });
    expect(logs.properties.host).toEqual({ type: 'object' });
    expect(logs.properties.severity_number).toEqual({ type: 'byte' });
    expect(logs.dynamic_templates.map((template) => Object.keys(template as object)[0])).toEqual([
      'labels_as_keyword',
      'strings_as_keyword',
      'integers_as_double',
      'floats_as_double',
    ]);
    const metrics = metricMappings() as { properties: { metric: { properties: Record<string, unknown> } } };
    expect(metrics.properties.metric.properties.value).toEqual({ type: 'double' });
    expect(metrics.properties.metric.properties.histogram).toMatchObject({ properties: { bucket_counts: { type: 'long' } } });
    // Only field types both Elasticsearch and OpenSearch know.
    const types = new Set<string>();
    JSON.stringify([logMappings(), metricMappings()], (key, value: unknown) => {
      if (key === 'type' && typeof value === 'string') types.add(value);
      return value;
    });
    expect([...types].sort()).toEqual(['boolean', 'byte', 'date', 'double', 'keyword', 'long', 'object', 'text']);
  });
});
