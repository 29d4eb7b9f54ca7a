import { describe, expect, it } from 'vitest';
import { scrapeJobSchema } from './config.js';

const TARGETS = { static_configs: [{ targets: ['localhost:9100'] }] };

/** The issues of one scrape job, as `path: message`. */
function issues(job: Record<string, unknown>): string[] {
  const result = scrapeJobSchema.safeParse({ job_name: 'app', ...TARGETS, ...job });
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('scrapeJobSchema', () => {
  it('13.2: refuses zero and timer-overflowing scrape_interval, scrape_timeout and refresh_interval, naming the key', () => {
    expect(issues({ scrape_interval: 0 })).toEqual(['scrape_interval: expected a duration from 1ms to 24d20h31m23s647ms']);
    expect(issues({ scrape_interval: '0s' })).toEqual(['scrape_interval: expected a duration from 1ms to 24d20h31m23s647ms']);
    expect(issues({ scrape_interval: '30d' })).toEqual(['scrape_interval: expected a duration from 1ms to 24d20h31m23s647ms']);
    expect(issues({ scrape_timeout: '0ms' })).toEqual(['scrape_timeout: expected a duration from 1ms to 24d20h31m23s647ms']);
    expect(issues({ static_configs: [], file_sd_configs: [{ files: ['/tmp/*.json'], refresh_interval: 0 }] })).toEqual([
      'file_sd_configs.0.refresh_interval: expected a duration from 1ms to 24d20h31m23s647ms',
    ]);
  });

  it('13.13: refuses tls_config on an http job instead of scraping in plaintext while TLS looks configured', () => {
    expect(issues({ tls_config: { ca_file: '/etc/ca.pem' } })).toEqual([
      'tls_config: tls_config applies only with scheme: https (with http the targets are scraped in plaintext)',
    ]);
    expect(issues({ scheme: 'https', tls_config: { ca_file: '/etc/ca.pem' } })).toEqual([]);
  });

  it('reads body_size_limit as a size, like every other size key (0 = no limit)', () => {
    expect(scrapeJobSchema.parse({ job_name: 'app', ...TARGETS, body_size_limit: '16MiB' })).toMatchObject({ body_size_limit: 16 * 1024 * 1024 });
    expect(scrapeJobSchema.parse({ job_name: 'app', ...TARGETS, body_size_limit: 0 })).toMatchObject({ body_size_limit: 0 });
    expect(scrapeJobSchema.parse({ job_name: 'app', ...TARGETS })).toMatchObject({ body_size_limit: 64 * 1024 * 1024 });
  });

  it('keeps the defaults and accepts ordinary durations', () => {
    expect(scrapeJobSchema.parse({ job_name: 'app', ...TARGETS })).toMatchObject({ scrape_interval: 15_000, scrape_timeout: 10_000 });
    expect(scrapeJobSchema.parse({ job_name: 'app', ...TARGETS, scrape_interval: '1s' })).toMatchObject({ scrape_interval: 1000, scrape_timeout: 1000 });
    expect(issues({ scrape_interval: '24d' })).toEqual([]);
  });
});
