import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { ConfigError, parseYaml, validateConfig } from './load.js';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

const minimalAgent = { kafka: { brokers: ['127.0.0.1:9092'] }, sources: { app: { type: 'file', include: ['/var/log/app/*.log'] } } };

describe('agent configuration', () => {
  it('fills defaults and parses units', () => {
    const config = validateConfig(agentConfigSchema, { ...minimalAgent, framer: { max_bytes: '512KiB', linger: '50ms' } }, 'agent.yaml');
    expect(config.framer).toEqual({ max_bytes: 524_288, max_events: 10_000, linger: 50 });
    expect(config.output.topic).toBe('tributary.raw.logs');
    const app = config.sources.app;
    expect(app?.type === 'file' && app.start_at).toBe('beginning');
    expect(config.metrics_output.topic).toBe('tributary.raw.metrics');
    expect(config.telemetry.port).toBe(9464);
  });

  it('names a wrongly typed key and what was expected', () => {
    const problems = problemsOf(() => validateConfig(agentConfigSchema, { ...minimalAgent, framer: { max_events: 'many' } }, 'agent.yaml'));
    expect(problems).toEqual([expect.stringMatching(/^framer\.max_events: .*expected number/)]);
  });

  it('names an unknown key', () => {
    const problems = problemsOf(() =>
      validateConfig(agentConfigSchema, { ...minimalAgent, sources: { app: { type: 'file', include: ['x'], includes: ['y'] } } }, 'agent.yaml'),
    );
    expect(problems).toEqual([expect.stringMatching(/^sources\.app\.includes: unknown key/)]);
  });

  it('names a missing required key', () => {
    const problems = problemsOf(() => validateConfig(agentConfigSchema, { sources: minimalAgent.sources }, 'agent.yaml'));
    expect(problems).toEqual(['kafka: required key is missing (expected object)']);
  });

  it('13.18: rejects a bad duration with the expected form and range, never the text it got', () => {
    const problems = problemsOf(() => validateConfig(agentConfigSchema, { ...minimalAgent, framer: { linger: 'soon' } }, 'agent.yaml'));
    expect(problems).toEqual(['framer.linger: expected a duration such as "500ms", "5s" or "1m", from 0ms to 24d20h31m23s647ms']);
  });

  it('puts the file name in the message', () => {
    expect(() => validateConfig(agentConfigSchema, {}, '/etc/tributary/agent.yaml')).toThrow(/\/etc\/tributary\/agent\.yaml: kafka: required key is missing/);
  });
});

describe('environment interpolation', () => {
  it('replaces ${VAR} and ${VAR:-default} in values', () => {
    const config = validateConfig(
      collectorConfigSchema,
      { kafka: { brokers: ['${BROKER}'] }, outputs: { local: { type: 'file', path: '${OUT_DIR:-/tmp/out}/records.ndjson' } } },
      'collector.yaml',
      { BROKER: 'kafka-1:9092' },
    );
    expect(config.kafka.brokers).toEqual(['kafka-1:9092']);
    expect(config.outputs.local).toMatchObject({ path: '/tmp/out/records.ndjson' });
  });

  it('names the key whose variable is unset', () => {
    const problems = problemsOf(() => validateConfig(collectorConfigSchema, { kafka: { brokers: ['${NOPE}'] }, outputs: {} }, 'collector.yaml', {}));
    expect(problems).toEqual([expect.stringMatching(/^kafka\.brokers\[0\]: environment variable NOPE is not set/)]);
  });

  it('keeps $$ as a literal dollar', () => {
    const config = validateConfig(agentConfigSchema, { ...minimalAgent, sources: { app: { type: 'file', include: ['/logs/$$HOME/*.log'] } } }, 'a.yaml', {});
    const app = config.sources.app;
    expect(app?.type === 'file' && app.include).toEqual(['/logs/$HOME/*.log']);
  });
});

describe('YAML', () => {
  it('reports syntax errors with the file', () => {
    expect(() => parseYaml('kafka: [unclosed', 'bad.yaml')).toThrow(/bad\.yaml: \(top level\): YAML syntax error/);
  });

  it('rejects duplicate keys', () => {
    expect(() => parseYaml('a: 1\na: 2\n', 'dup.yaml')).toThrow(/dup\.yaml.*YAML syntax error/);
  });
});
