import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/load.js';
import { configProblems } from '../../../test/helpers/records.js';
import { solrOutputSchema } from './config.js';

const validate = (config: Record<string, unknown>) => () =>
  validateConfig(solrOutputSchema, { type: 'solr', endpoints: ['http://localhost:8983/solr'], ...config }, 'solr.yaml');

describe('solr output config', () => {
  it('has defaults for everything but the endpoints', () => {
    expect(solrOutputSchema.parse({ type: 'solr', endpoints: ['http://localhost:8983/solr'] })).toEqual({
      type: 'solr',
      endpoints: ['http://localhost:8983/solr'],
      collection: { logs: 'tributary', metrics: 'tributary' },
      commit_within: 1_000,
      update_chain: 'tolerant',
      batch: { max_bytes: 5 * 1024 * 1024, max_events: 2_000 },
      max_concurrent_requests: 2,
      request_timeout: 30_000,
      retry: { initial_backoff: 1_000, max_backoff: 30_000 },
      mapping: { mode: 'dynamic', fields: {}, max_string_chars: 8_000 },
    });
    expect(
      solrOutputSchema.parse({ type: 'solr', endpoints: ['http://s/solr'], collection: { metrics: 'm' }, commit_within: '5s', update_chain: false }),
    ).toMatchObject({
      collection: { logs: 'tributary', metrics: 'm' },
      commit_within: 5_000,
      update_chain: false,
    });
  });

  it('names the key path of what is wrong', () => {
    expect(configProblems(validate({ endpoints: ['localhost:8983'] }))).toEqual([{ path: 'endpoints[0]', message: 'expected http or https, got localhost:' }]);
    expect(configProblems(validate({ collection: 'a/b' })).map((problem) => problem.path)).toEqual(['collection']);
    expect(configProblems(validate({ mapping: { fields: { body: 'has space' } } })).map((problem) => problem.path)).toEqual(['mapping.fields.body']);
    expect(configProblems(validate({ auth: { basic: { username: 'u' } } }))).toEqual([
      { path: 'auth.basic', message: 'set exactly one of password or password_file' },
    ]);
    expect(configProblems(validate({ tls: { ca_file: '/ca.pem' } }))).toEqual([{ path: 'tls', message: 'tls is set but no endpoint uses https' }]);
    expect(configProblems(validate({ endpoints: ['http://u:p@localhost:8983/solr'], auth: { basic: { username: 'u', password: 'p' } } }))).toEqual([
      { path: 'endpoints[0]', message: 'credentials in the URL and auth are mutually exclusive' },
    ]);
    expect(configProblems(validate({ retry: { initial_backoff: '10s', max_backoff: '1s' } }))).toEqual([
      { path: 'retry.initial_backoff', message: 'initial_backoff must not exceed max_backoff' },
    ]);
    expect(configProblems(validate({ commit_within: 'soon' })).map((problem) => problem.path)).toEqual(['commit_within']);
    expect(configProblems(validate({ unknown: 1 })).length).toBe(1);
  });
});
