import { describe, expect, it } from 'vitest';
import { componentRow, readme } from '../../shared/test-support/component-docs.js';
import { parseYaml, validateConfig } from '../../shared/config/load.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { validateAgentDocument } from '../cli.js';
import { agentConfigSchema } from '../config.js';
import { agentSourceSchema, agentSources, bindSource } from './registry.js';

const kafka = { brokers: ['127.0.0.1:1'] };

/** The least each registered type needs; a type added without an entry here fails the first test. */
const minimal: Record<string, Record<string, unknown>> = {
  file: { type: 'file', include: ['/var/log/app/*.log'] },
  prometheus_scrape: { type: 'prometheus_scrape', scrape_configs: [{ job_name: 'node', static_configs: [{ targets: ['127.0.0.1:9100'] }] }] },
  host_metrics: { type: 'host_metrics' },
};

describe('agent source registry', () => {
  it('every registered type has a description and validates and constructs from its minimal config', () => {
    expect(Object.keys(minimal).sort()).toEqual([...agentSources.types].sort());
    const { metrics } = testComponentMetrics('source');
    const consumer = { consume: () => Promise.resolve() };
    for (const type of agentSources.types) {
      expect(agentSources.get(type).description.length).toBeGreaterThan(10);
      const config = validateConfig(agentConfigSchema, { kafka, sources: { s: minimal[type] } }, 'agent.yaml', {});
      const source = config.sources.s;
      if (source === undefined) throw new Error('validated config lost its source');
      const bound = bindSource('s', source);
      expect(bound.type).toBe(type);
      const common = { agentId: 'a', host: 'h', consumer, metrics, logger: silentLogger() };
      const instance =
        bound.stream === 'logs'
          ? bound.create({ ...common, checkpoints: CheckpointStore.forDataDir('/nonexistent') })
          : bound.create({ ...common, limits: { maxEvents: 10, maxBytes: 1024 } });
      expect(instance.name).toBe('s');
    }
  });

  it("validation uses each registered factory's own schema", () => {
    expect(agentSourceSchema.options).toEqual(agentSources.factories.map((factory) => factory.schema));
    agentSourceSchema.options.forEach((schema, index) => expect(schema).toBe(agentSources.factories[index]?.schema));
    expect(agentConfigSchema.shape.sources.valueType).toBe(agentSourceSchema);
  });

  it('an unknown source type fails `tributary validate` on sources.<id>.type, naming the known types', () => {
    const document = parseYaml("kafka:\n  brokers: ['127.0.0.1:9092']\nsources:\n  app:\n    type: journald\n", 'agent.yaml');
    expect(() => validateAgentDocument(document, 'agent.yaml')).toThrow(
      'invalid configuration in agent.yaml:\n  agent.yaml: sources.app.type: unknown source type "journald"; known types are: file, prometheus_scrape, host_metrics',
    );
  });

  it('a source without a type is told which types there are', () => {
    expect(() => validateConfig(agentConfigSchema, { kafka, sources: { app: { include: ['/x'] } } }, 'agent.yaml', {})).toThrow(
      'agent.yaml: sources.app.type: required key is missing (expected one of: file, prometheus_scrape, host_metrics)',
    );
  });

  it('looking up an unregistered type throws instead of falling through', () => {
    expect(() => agentSources.get('journald')).toThrow('unknown source type "journald"; known types are: file, prometheus_scrape, host_metrics');
  });
});

describe('the README', () => {
  it('lists every source type with its description', async () => {
    const text = await readme();
    for (const { type, description } of agentSources.describe()) expect(text).toMatch(componentRow('source', type, description));
  });
});
