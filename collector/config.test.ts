import { describe, expect, it } from 'vitest';
import { parseYaml, validateConfig } from '../shared/config/load.js';
import { configErrorOf, problemsOf } from '../shared/test-support/config-problems.js';
import { alertNotifierSchema } from './alerting/notifiers/registry.js';
import { collectorConfigSchema } from './config.js';

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
});

describe('13.16: bounded durations and sizes', () => {
  const collector = (kafka: Record<string, unknown>, input: Record<string, unknown> = {}) => ({
    kafka: { brokers: ['127.0.0.1:9092'], ...kafka },
    input,
    outputs: { local: { type: 'file', path: '/tmp/out.jsonl' } },
  });

  it('13.16: a duration of 2^31 ms or more (a 1 ms timer in Node) is refused with the allowed range', () => {
    expect(problemsOf(() => validateConfig(collectorConfigSchema, collector({ request_timeout: '30d' }), 'collector.yaml'))).toEqual([
      'kafka.request_timeout: expected a duration from 1ms to 24d20h31m23s647ms',
    ]);
    expect(problemsOf(() => validateConfig(collectorConfigSchema, collector({ request_timeout: 2 ** 31 }), 'collector.yaml'))).toEqual([
      'kafka.request_timeout: expected a duration from 1ms to 24d20h31m23s647ms',
    ]);
    expect(validateConfig(collectorConfigSchema, collector({ request_timeout: 2 ** 31 - 1 }), 'collector.yaml').kafka.request_timeout).toBe(2 ** 31 - 1);
  });

  it('13.16: zero is refused where it breaks the component', () => {
    expect(problemsOf(() => validateConfig(collectorConfigSchema, collector({}, { max_frame_bytes: 0 }), 'collector.yaml'))).toEqual([
      'input.max_frame_bytes: expected a size from 1B to 1GiB',
    ]);
  });
});

describe('13.18: no secret in any configuration message', () => {
  const secret = 'Tr0ub4dor-and-3';
  const collectorYaml = (sasl: string) => `kafka:\n  brokers: ['127.0.0.1:9092']\n  sasl: ${sasl}\noutputs:\n  local: {type: file, path: /tmp/o.jsonl}\n`;

  it.each([
    // The brace typo: the password lost its key and became one.
    [`{mechanism: plain, username: bob, ${secret}}`],
    [`{mechanism: plain, username: bob, password: {${secret}}}`],
    [`{mechanism: plain, username: bob, password: ${secret}, pasword: ${secret}}`],
    [`{mechanism: plian, username: bob, password: ${secret}}`],
  ])('13.18: a brace typo in %s never echoes the password', (sasl) => {
    const error = configErrorOf(() => validateConfig(collectorConfigSchema, parseYaml(collectorYaml(sasl), 'c.yaml'), 'c.yaml'));
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.problems)).not.toContain(secret);
    expect(error.message).toContain('kafka.sasl');
  });

  it('13.18: an unknown key elsewhere is still named, and a value from the environment is scrubbed too', () => {
    const error = configErrorOf(() =>
      validateConfig(
        collectorConfigSchema,
        { kafka: { brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'bob', password: '${PASS}', [secret]: null } }, outputs: {}, inptu: {} },
        'c.yaml',
        { PASS: 'from-the-environment' },
      ),
    );
    expect(error.problems).toContainEqual({ path: 'inptu', message: 'unknown key (check the spelling; see the configuration reference in README.md)' });
    expect(error.problems).toContainEqual({
      path: 'kafka.sasl.<redacted>',
      message: 'unknown key (its name is not shown: it may be a secret that lost its key; check the spelling and the braces)',
    });
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('from-the-environment');
  });
});

describe('TLS settings in the collector', () => {
  const brokers = ['127.0.0.1:9092'];

  it('13.13: the collector names the full key path', () => {
    const document = { kafka: { brokers, tls: { ca_file: '/ca.pem' } }, outputs: { local: { type: 'file', path: '/tmp/out.jsonl' } } };
    expect(problemsOf(() => validateConfig(collectorConfigSchema, document, 'collector.yaml'))).toContain(
      'kafka.tls.ca_file: ca_file is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)',
    );
  });

  it('13.13: HTTP notifiers refuse tls when no URL is https (it would be ignored)', () => {
    const alertmanager = alertNotifierSchema.safeParse({ type: 'alertmanager', urls: ['http://am:9093'], tls: { ca_file: '/ca.pem' } });
    expect(alertmanager.success).toBe(false);
    expect(alertmanager.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['tls', 'tls is set but no URL uses https']]);
    const webhook = alertNotifierSchema.safeParse({ type: 'webhook', url: 'http://hooks:8080/x', tls: { ca_file: '/ca.pem' } });
    expect(webhook.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['tls', 'tls is set but the URL is not https']]);
    expect(alertNotifierSchema.safeParse({ type: 'webhook', url: 'https://hooks:8443/x', tls: { ca_file: '/ca.pem' } }).success).toBe(true);
  });
});
