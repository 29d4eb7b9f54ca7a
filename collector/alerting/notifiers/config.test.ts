import { describe, expect, it } from 'vitest';
import { alertTopicSchema } from './config.js';
import { alertNotifierSchema } from './registry.js';

function issues(input: unknown): string[] {
  const result = alertNotifierSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('alert notifier config', () => {
  it('fills the documented defaults', () => {
    expect(alertNotifierSchema.parse({ type: 'alertmanager', urls: ['http://am:9093'] })).toEqual({
      type: 'alertmanager',
      urls: ['http://am:9093'],
      path_prefix: '',
      resolve_timeout: 240_000,
      timeout: 10_000,
      queue_capacity: 10_000,
      max_batch_size: 64,
      retry: { max_attempts: 5, initial_backoff: 500, max_backoff: 30_000 },
    });
    expect(alertNotifierSchema.parse({ type: 'webhook', url: 'https://hooks.example/x' })).toEqual({
      type: 'webhook',
      url: 'https://hooks.example/x',
      method: 'POST',
      headers: {},
      send_pending: false,
      timeout: 10_000,
      queue_capacity: 10_000,
      max_batch_size: 64,
      retry: { max_attempts: 5, initial_backoff: 500, max_backoff: 30_000 },
    });
    expect(alertTopicSchema.parse(undefined)).toEqual({ topic: 'tributary.alerts', create_topic: true, partitions: 3, compression: 'zstd' });
  });

  it('parses durations, prefixes and TLS', () => {
    const parsed = alertNotifierSchema.parse({
      type: 'alertmanager',
      urls: ['https://am-0:9093', 'https://am-1:9093'],
      path_prefix: '/alertmanager/',
      resolve_timeout: '10m',
      tls: { ca_file: '/etc/ca.pem', server_name: 'am' },
      bearer_token_file: '/run/secrets/am',
    });
    expect(parsed).toMatchObject({
      path_prefix: '/alertmanager',
      resolve_timeout: 600_000,
      tls: { ca_file: '/etc/ca.pem', server_name: 'am', insecure_skip_verify: false },
    });
  });

  it('names what is wrong, with its key path', () => {
    expect(issues({ type: 'alertmanager', urls: [] })).toEqual(['urls: Too small: expected array to have >=1 items']);
    expect(issues({ type: 'alertmanager', urls: ['am:9093'] })).toEqual(['urls.0: expected http or https, got am:']);
    expect(issues({ type: 'alertmanager', urls: ['http://am:9093?x=1'] })).toEqual(['urls.0: a base URL has no query']);
    expect(issues({ type: 'alertmanager', urls: ['http://a:b@am:9093'], bearer_token: 't' })).toEqual([
      'urls.0: credentials in the URL and basic_auth/bearer_token are mutually exclusive',
    ]);
    expect(issues({ type: 'webhook', url: 'http://h/x', bearer_token: 't', basic_auth: { username: 'u', password: 'p' } })).toEqual([
      'basic_auth: set at most one of basic_auth, bearer_token or bearer_token_file',
    ]);
    expect(issues({ type: 'webhook', url: 'http://h/x', basic_auth: { username: 'u' } })).toEqual(['basic_auth: set exactly one of password or password_file']);
    expect(issues({ type: 'webhook', url: 'http://h/x', headers: { Authorization: 'x' } })).toHaveLength(1);
    expect(issues({ type: 'webhook', url: 'http://h/x', retry: { initial_backoff: '1m', max_backoff: '1s' } })).toEqual([
      'retry.initial_backoff: initial_backoff must not exceed max_backoff',
    ]);
    expect(issues({ type: 'webhook', url: 'https://h/x', tls: { cert_file: '/c' } })).toEqual(['tls.cert_file: cert_file and key_file go together']);
    expect(issues({ type: 'alertmanager', urls: ['http://am'], resolve_timeout: '10ms' })).toEqual(['resolve_timeout: at least 1s']);
    expect(issues({ type: 'pagerduty' })).toHaveLength(1);
  });
});
