import { describe, expect, it } from 'vitest';
import { componentRow, readme } from '../../shared/test-support/component-docs.js';
import { validateConfig } from '../../shared/config/load.js';
import type { NormalizedRecord } from '../../shared/pipeline/record-sink.js';
import { PipelineMetrics } from '../../shared/telemetry/metrics.js';
import { sampleValue } from '../../shared/telemetry/test-metrics.js';
import { collectorConfigSchema } from '../config.js';
import { asRawLogEvent, normalizeLogEvent } from './normalize/normalize-log.js';
import type { InFlightRecord } from './processor.js';
import { collectorProcessors, createProcessors } from './registry.js';

function collectorConfig(extra: Record<string, unknown>) {
  return validateConfig(
    collectorConfigSchema,
    {
      kafka: { brokers: ['127.0.0.1:1'] },
      outputs: { all: { type: 'file', path: '/tmp/a.ndjson' }, errors: { type: 'file', path: '/tmp/e.ndjson' } },
      ...extra,
    },
    'collector.yaml',
    {},
  );
}

function logRecord(body: string): NormalizedRecord {
  return normalizeLogEvent(
    asRawLogEvent({
      id: '0123456789abcdef0123456789abcdef',
      observed_at: '2026-11-23T12:00:00.000Z',
      body,
      host: 'h',
      agent_id: 'a',
      source: { type: 'file', name: 'app', path: '/var/log/app.log', file_id: 'f', offset: 0 },
    }),
  );
}

function processorsFor(extra: Record<string, unknown>) {
  const families = new PipelineMetrics('collector');
  const normalize = families.component({ component_id: 'normalize', component_type: 'normalize', component_kind: 'processor' });
  const config = collectorConfig(extra);
  const processors = createProcessors(config, {
    outputIds: Object.keys(config.outputs),
    normalizeMetrics: { 'raw.log.v1': normalize, 'raw.metric.v1': normalize },
    metricsFor: (type) => families.component({ component_id: type, component_type: type, component_kind: 'processor' }),
  });
  const run = (record: NormalizedRecord): InFlightRecord => {
    const event: InFlightRecord = { record, destinations: [] };
    for (const processor of processors) processor.process(event);
    return event;
  };
  return { families, run };
}

describe('collector processor registry', () => {
  it('composes the pipeline in its documented order: parse, enrich, route', () => {
    expect(collectorProcessors.types).toEqual(['parse', 'enrich', 'route']);
    for (const factory of collectorProcessors.factories) expect(factory.description.length).toBeGreaterThan(10);
  });

  it("validation uses each processor's own section schema", () => {
    for (const factory of collectorProcessors.factories) {
      for (const [key, schema] of Object.entries(factory.schema.shape))
        expect(collectorConfigSchema.shape[key as keyof typeof collectorConfigSchema.shape]).toBe(schema);
    }
  });

  it('every processor constructs from the defaults, and without rules a record goes to every output', () => {
    const { run } = processorsFor({});
    expect(run(logRecord('plain line')).destinations).toEqual(['all', 'errors']);
  });

  it('parses before enriching and routes the finished record', async () => {
    const { families, run } = processorsFor({
      parsers: [{ parser: { type: 'json' } }],
      enrich: [{ redact: { patterns: ['email'], fields: ['attributes.user'] } }],
      routes: [{ match: { attributes: { user: '[REDACTED]' } }, outputs: ['errors'] }],
    });
    const event = run(logRecord('{"user":"ann@example.com","msg":"hi"}'));
    // Enrich redacted a field only parsing had extracted, and route matched what enrich wrote.
    expect(event.record.attributes.user).toBe('[REDACTED]');
    expect(event.destinations).toEqual(['errors']);
    expect(await sampleValue(families, 'tributary_component_redactions_total', { component_id: 'enrich' })).toBe(1);
  });

  it('counts a line its parser cannot read on the normalize component, as before', async () => {
    const { families, run } = processorsFor({ parsers: [{ parser: { type: 'json' } }] });
    const event = run(logRecord('not json'));
    expect(event.record.attributes['tributary.parse_error']).toBeDefined();
    expect(await sampleValue(families, 'tributary_component_errors_total', { component_id: 'normalize', reason: 'parse' })).toBe(1);
  });
});

describe('the README', () => {
  it('lists every processor with its description', async () => {
    const text = await readme();
    for (const { type, description } of collectorProcessors.describe()) expect(text).toMatch(componentRow('processor', type, description));
  });
});
