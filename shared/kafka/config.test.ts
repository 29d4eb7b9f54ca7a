import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../config/load.js';
import { kafkaConnectionSchema } from './config.js';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

const brokers = ['127.0.0.1:9092'];

describe('kafka connection config', () => {
  it('13.13: TLS files without tls.enabled are a configuration error naming each key, not a plaintext connection', () => {
    const problems = problemsOf(() =>
      validateConfig(
        kafkaConnectionSchema,
        {
          brokers,
          tls: { ca_file: '/etc/kafka/ca.pem', cert_file: '/etc/kafka/client.pem', key_file: '/etc/kafka/client.key' },
          sasl: { mechanism: 'plain', username: 'bob', password: 'S3cret-Pa55' },
        },
        'collector.yaml',
      ),
    );
    expect(problems).toEqual([
      'tls.ca_file: ca_file is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)',
      'tls.cert_file: cert_file is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)',
      'tls.key_file: key_file is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)',
    ]);
    expect(problems.join('\n')).not.toContain('S3cret-Pa55');
  });

  it('13.13: server_name and insecure_skip_verify without tls.enabled are refused too; with enabled: true all are accepted', () => {
    expect(problemsOf(() => validateConfig(kafkaConnectionSchema, { brokers, tls: { server_name: 'kafka', insecure_skip_verify: true } }, 'c.yaml'))).toEqual([
      'tls.server_name: server_name is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)',
      'tls.insecure_skip_verify: insecure_skip_verify is set but tls.enabled is not true',
    ]);
    const tls = { enabled: true, ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/c.key', server_name: 'kafka' };
    expect(validateConfig(kafkaConnectionSchema, { brokers, tls }, 'c.yaml').tls).toEqual({ ...tls, insecure_skip_verify: false, reload_interval: 10_000 });
    expect(validateConfig(kafkaConnectionSchema, { brokers, tls: { enabled: false } }, 'c.yaml').tls).toEqual({
      enabled: false,
      insecure_skip_verify: false,
      reload_interval: 10_000,
    });
  });
});
