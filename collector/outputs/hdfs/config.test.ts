import { describe, expect, it } from 'vitest';
import { hdfsOutputSchema } from './config.js';

function problems(input: Record<string, unknown>): string[] {
  const result = hdfsOutputSchema.safeParse({ type: 'hdfs', namenodes: ['http://nn1:9870'], ...input });
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('hdfs output config', () => {
  it('has defaults for everything but the namenodes', () => {
    const config = hdfsOutputSchema.parse({ type: 'hdfs', namenodes: ['http://nn1:9870', 'https://nn2:9871'] });
    expect(config.path.base).toBe('/tributary');
    expect(config.compression).toBe('gzip');
    expect(config.roll).toEqual({ max_bytes: 128 * 1024 * 1024, max_records: 1_000_000, interval: 600_000, idle_timeout: 60_000, max_open_files: 256 });
    expect(config.auth.user.length).toBeGreaterThan(0);
    expect(config.request_timeout).toBe(30_000);
  });

  it('takes TLS settings for https namenodes', () => {
    const config = hdfsOutputSchema.parse({ type: 'hdfs', namenodes: ['https://nn1:9871'], tls: { ca_file: '/etc/hdfs/ca.pem', server_name: 'nn1' } });
    expect(config.tls).toEqual({ ca_file: '/etc/hdfs/ca.pem', server_name: 'nn1', insecure_skip_verify: false });
  });

  it('parses sizes and durations', () => {
    const config = hdfsOutputSchema.parse({ type: 'hdfs', namenodes: ['http://nn:9870'], roll: { max_bytes: '64MiB', interval: '5m', idle_timeout: '30s' } });
    expect(config.roll.max_bytes).toBe(64 * 1024 * 1024);
    expect(config.roll.interval).toBe(300_000);
  });

  it.each([
    [{ namenodes: [] }, 'namenodes'],
    [{ namenodes: ['nn1:9870'] }, 'namenodes.0: expected http or https'],
    [{ namenodes: ['not a url'] }, 'namenodes.0: expected the namenode HTTP address'],
    [{ namenodes: ['http://nn1:9870/webhdfs/v1'] }, 'only scheme, host and port'],
    [{ path: 'logs/{x}' }, 'path: must be an absolute path'],
    [{ path: '/logs/{service.name' }, 'unclosed'],
    [{ compression: 'lz4' }, 'compression'],
    [{ compression: 'gzip', compression_level: 12 }, 'gzip levels are 1-9'],
    [{ auth: { delegation_token: 'a', delegation_token_file: '/b' } }, 'at most one'],
    [{ retry: { initial_backoff: '10s', max_backoff: '1s' } }, 'initial_backoff must not exceed max_backoff'],
    [{ roll: { max_bytes: 10 } }, 'at least 1KiB'],
    [{ missing_value: '_x' }, 'missing_value'],
    [{ unknown_key: 1 }, 'unknown_key'],
    [{ tls: { ca_file: '/ca.pem' } }, 'tls: tls is set but no namenode uses https'],
    [{ namenodes: ['https://nn1:9871'], tls: { cert_file: '/c.pem' } }, 'cert_file and key_file go together'],
    [{ namenodes: ['https://nn1:9871'], tls: { ca_file: '/ca.pem', verify: false } }, 'verify'],
  ])('refuses %j', (input, message) => {
    expect(problems(input).join('\n')).toContain(message);
  });
});
