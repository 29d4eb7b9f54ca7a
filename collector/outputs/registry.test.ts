import { describe, expect, it } from 'vitest';
import { componentRow, readme } from '../../shared/test-support/component-docs.js';
import { validateConfig } from '../../shared/config/load.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { collectorConfigSchema } from '../config.js';
import { collectorOutputs, collectorOutputSchema, createOutput } from './registry.js';

const kafka = { brokers: ['127.0.0.1:1'] };

/** The least each registered type needs; a type added without an entry here fails the first test. */
const minimal: Record<string, Record<string, unknown>> = {
  kafka_topics: { type: 'kafka_topics' },
  file: { type: 'file', path: '/tmp/tributary-registry-test.ndjson' },
  elasticsearch: { type: 'elasticsearch', endpoints: ['http://127.0.0.1:1'] },
  solr: { type: 'solr', endpoints: ['http://127.0.0.1:1/solr'] },
  hdfs: { type: 'hdfs', namenodes: ['http://127.0.0.1:1'] },
};

describe('collector output registry', () => {
  it('every registered type has a description and validates and constructs from its minimal config', () => {
    expect(Object.keys(minimal).sort()).toEqual([...collectorOutputs.types].sort());
    const { metrics } = testComponentMetrics('sink');
    const producer = { connect: () => Promise.resolve(), send: () => Promise.reject(new Error('not in this test')), disconnect: () => Promise.resolve() };
    for (const type of collectorOutputs.types) {
      expect(collectorOutputs.get(type).description.length).toBeGreaterThan(10);
      const config = validateConfig(collectorConfigSchema, { kafka, outputs: { o: minimal[type] } }, 'collector.yaml', {});
      const output = config.outputs.o;
      if (output === undefined) throw new Error('validated config lost its output');
      const sink = createOutput('o', output, { producer, metrics, logger: silentLogger() });
      expect(sink.id).toBe('o');
    }
  });

  it('an output says which Kafka topics it needs created', () => {
    const { metrics } = testComponentMetrics('sink');
    const producer = { connect: () => Promise.resolve(), send: () => Promise.resolve(), disconnect: () => Promise.resolve() };
    const deps = { producer, metrics, logger: silentLogger() };
    const config = validateConfig(collectorConfigSchema, { kafka, outputs: { k: { type: 'kafka_topics', partitions: 2 }, f: minimal.file } }, 'c.yaml', {});
    const outputs = Object.entries(config.outputs).map(([id, output]) => createOutput(id, output, deps));
    expect(outputs.flatMap((output) => output.topics ?? [])).toEqual([
      { topic: 'tributary.logs', partitions: 2 },
      { topic: 'tributary.metrics', partitions: 2 },
    ]);
  });

  it("validation uses each registered factory's own schema", () => {
    schemasAreTheFactories();
    expect(collectorConfigSchema.shape.outputs.valueType).toBe(collectorOutputSchema);
  });

  it('an unknown output type fails validation on outputs.<id>.type, naming the known types', () => {
    expect(() => validateConfig(collectorConfigSchema, { kafka, outputs: { search: { type: 'opensearch' } } }, 'collector.yaml', {})).toThrow(
      'collector.yaml: outputs.search.type: unknown output type "opensearch"; known types are: kafka_topics, file, elasticsearch, solr, hdfs',
    );
  });
});

function schemasAreTheFactories(): void {
  expect(collectorOutputSchema.options).toHaveLength(collectorOutputs.factories.length);
  collectorOutputSchema.options.forEach((schema, index) => expect(schema).toBe(collectorOutputs.factories[index]?.schema));
}

describe('the README', () => {
  it('lists every output type with its description', async () => {
    const text = await readme();
    for (const { type, description } of collectorOutputs.describe()) expect(text).toMatch(componentRow('output', type, description));
  });
});
