import { describe, expect, it } from 'vitest';
import { validateConfig } from '../shared/config/load.js';
import { problemsOf } from '../shared/test-support/config-problems.js';
import { agentConfigSchema } from './config.js';

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
  it('keeps $$ as a literal dollar', () => {
    const config = validateConfig(agentConfigSchema, { ...minimalAgent, sources: { app: { type: 'file', include: ['/logs/$$HOME/*.log'] } } }, 'a.yaml', {});
    const app = config.sources.app;
    expect(app?.type === 'file' && app.include).toEqual(['/logs/$HOME/*.log']);
  });
});

describe('13.16: bounded durations and sizes', () => {
  it('13.16: zero is refused where it breaks the component', () => {
    const agent = (source: Record<string, unknown>) => ({ ...minimalAgent, sources: { app: { type: 'file', include: ['/x/*.log'], ...source } } });
    expect(problemsOf(() => validateConfig(agentConfigSchema, agent({ read_chunk_bytes: 0 }), 'agent.yaml'))).toEqual([
      'sources.app.read_chunk_bytes: expected a size from 1B to 64MiB',
    ]);
    expect(problemsOf(() => validateConfig(agentConfigSchema, agent({ poll_interval: '0s' }), 'agent.yaml'))).toEqual([
      'sources.app.poll_interval: expected a duration from 1ms to 24d20h31m23s647ms',
    ]);
    const scrape = {
      ...minimalAgent,
      sources: {
        prom: { type: 'prometheus_scrape', scrape_configs: [{ job_name: 'node', scrape_interval: 0, static_configs: [{ targets: ['127.0.0.1:9100'] }] }] },
      },
    };
    expect(problemsOf(() => validateConfig(agentConfigSchema, scrape, 'agent.yaml'))).toEqual([
      'sources.prom.scrape_configs[0].scrape_interval: expected a duration from 1ms to 24d20h31m23s647ms',
    ]);
  });
});
