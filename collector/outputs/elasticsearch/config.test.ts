import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/load.js';
import { configProblems } from '../../../test/helpers/records.js';
import { collectorConfigSchema } from '../../config.js';
import { elasticsearchOutputSchema } from './config.js';

const parse = (config: Record<string, unknown>) => elasticsearchOutputSchema.parse({ type: 'elasticsearch', endpoints: ['http://localhost:9200'], ...config });

/** Problems reported for an elasticsearch output inside a whole collector config, with key paths from the top. */
function problems(output: Record<string, unknown>) {
  return configProblems(() =>
    validateConfig(collectorConfigSchema, { kafka: { brokers: ['localhost:9092'] }, outputs: { es: { type: 'elasticsearch', ...output } } }, 'collector.yaml'),
  );
}

describe('elasticsearch output config', () => {
  it('has the documented defaults', () => {
    const config = parse({});
    expect(config).toMatchObject({
      mode: 'data_stream',
      batch: { max_bytes: 5 * 1024 * 1024, max_events: 5000 },
      max_concurrent_requests: 2,
      compression: 'gzip',
      request_timeout: 30_000,
      retry: { initial_backoff: 1_000, max_backoff: 30_000 },
      install_templates: true,
      template_settings: {},
    });
    expect(config.retry.max_attempts).toBeUndefined();
    expect(config.data_stream.type).toBeUndefined();
    expect(config.data_stream.dataset.source).toBe('generic');
    expect(config.data_stream.namespace.source).toBe('default');
    expect(config.index.logs.source).toBe('tributary-logs-{yyyy.MM.dd}');
    expect(config.index.metrics.source).toBe('tributary-metrics-{yyyy.MM.dd}');
  });

  it('takes one index template for every record, units in sizes and durations', () => {
    const config = parse({
      mode: 'index',
      index: 'all-%Y',
      batch: { max_bytes: '1MiB' },
      request_timeout: '5s',
      retry: { initial_backoff: '100ms', max_attempts: 3 },
    });
    expect(config.index.logs.source).toBe('all-%Y');
    expect(config.index.metrics.source).toBe('all-%Y');
    expect(config.batch.max_bytes).toBe(1024 * 1024);
    expect(config.request_timeout).toBe(5_000);
    expect(config.retry).toEqual({ initial_backoff: 100, max_backoff: 30_000, max_attempts: 3 });
  });

  it('is one of the collector outputs', () => {
    const config = validateConfig(
      collectorConfigSchema,
      { kafka: { brokers: ['localhost:9092'] }, outputs: { es: { type: 'elasticsearch', endpoints: ['https://es:9200'] } } },
      'collector.yaml',
    );
    expect(config.outputs.es?.type).toBe('elasticsearch');
  });

  it('reports mistakes with their key paths', () => {
    const found = problems({
      endpoints: ['ftp://x', 'not a url'],
      data_stream: { dataset: 'web-access', namespace: '{labels.env}' },
      index: 'Bad-%q',
      batch: { max_bytes: '10B' },
      auth: { api_key: 'k', api_key_file: '/k' },
      tls: { cert_file: '/c' },
      retry: { initial_backoff: '1m', max_backoff: '1s' },
      compresion: 'gzip',
    });
    const byPath = Object.fromEntries(found.map((problem) => [problem.path, problem.message]));
    expect(byPath['outputs.es.endpoints[0]']).toMatch(/http or https/);
    expect(byPath['outputs.es.endpoints[1]']).toMatch(/expected a URL/);
    expect(byPath['outputs.es.data_stream.dataset']).toMatch(/"-" separates/);
    expect(byPath['outputs.es.data_stream.namespace']).toMatch(/\{resource\.<key>\} or \{attributes\.<key>\}/);
    expect(byPath['outputs.es.index.logs']).toMatch(/lowercase|unknown date field/);
    expect(byPath['outputs.es.batch.max_bytes']).toMatch(/1KiB/);
    expect(byPath['outputs.es.auth']).toMatch(/exactly one of basic, api_key or api_key_file/);
    expect(byPath['outputs.es.tls.cert_file']).toMatch(/go together/);
    expect(byPath['outputs.es.retry.initial_backoff']).toMatch(/must not exceed/);
    expect(byPath['outputs.es.compresion']).toMatch(/unknown key/);
  });

  it('refuses credentials in a URL beside auth, and tls without an https endpoint, without echoing the URL', () => {
    const found = problems({ endpoints: ['http://elastic:s3cret@es:9200'], auth: { api_key: 'k' }, tls: { ca_file: '/ca.pem' } });
    expect(found).toContainEqual({ path: 'outputs.es.endpoints[0]', message: 'credentials in the URL and auth are mutually exclusive' });
    expect(found).toContainEqual({ path: 'outputs.es.tls', message: 'tls is set but no endpoint uses https' });
    expect(JSON.stringify(found)).not.toContain('s3cret');
    expect(problems({ endpoints: ['http://x:9200'], auth: { basic: { username: 'u', password: 'p', password_file: '/p' } } })).toContainEqual({
      path: 'outputs.es.auth.basic',
      message: 'set exactly one of password or password_file',
    });
  });

  it('takes secrets from the environment through ${VAR} interpolation', () => {
    const config = validateConfig(
      collectorConfigSchema,
      { kafka: { brokers: ['k:9092'] }, outputs: { es: { type: 'elasticsearch', endpoints: ['https://es:9200'], auth: { api_key: '${ES_API_KEY}' } } } },
      'collector.yaml',
      { ES_API_KEY: 'from-env' },
    );
    const output = config.outputs.es;
    expect(output?.type === 'elasticsearch' && output.auth?.api_key).toBe('from-env');
  });
});
