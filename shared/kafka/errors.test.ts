import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { isRetriableKafkaError, kafkaSecurityError, withSecurityErrors } from './errors.js';

/** The shapes kafkajs gives: a connection error carrying Node's TLS code, wrapped once retries ran out. */
function connectionError(code: string, message: string): Error {
  const inner = Object.assign(new Error(`Connection error: ${message}`), { name: 'KafkaJSConnectionError', code, retriable: true });
  return Object.assign(new Error(inner.message, { cause: inner }), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false });
}

describe('kafkaSecurityError', () => {
  it('a refused SASL authentication names kafka.sasl, quotes the broker, and stays retriable', () => {
    const refused = Object.assign(new Error('SASL PLAIN authentication failed: Authentication failed: Invalid username or password'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const error = kafkaSecurityError(refused);
    expect(error).toEqual(
      new TributaryError(
        'KAFKA_AUTH_FAILED',
        "Kafka refused the client's credentials: check kafka.sasl (SASL PLAIN authentication failed: Authentication failed: Invalid username or password)",
        { retriable: true, context: { key: 'kafka.sasl' } },
      ),
    );
    expect(isRetriableKafkaError(error)).toBe(true);
  });

  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'check kafka.tls.ca_file'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'check kafka.tls.ca_file'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'check kafka.tls.server_name and kafka.brokers'],
    ['CERT_HAS_EXPIRED', "outside its validity period (check the broker's certificate and kafka.tls.ca_file)"],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'check kafka.tls.cert_file and kafka.tls.key_file'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'check kafka.tls.cert_file and kafka.tls.key_file'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'check kafka.tls.enabled'],
  ])('TLS failure %s (found under kafkajs wrapping) names what to check', (code, hint) => {
    const error = kafkaSecurityError(connectionError(code, 'handshake failed'));
    expect(error?.code).toBe('KAFKA_AUTH_FAILED');
    expect(error?.context).toEqual({ key: 'kafka.tls', tls_code: code });
    expect(error?.message).toContain(hint);
    expect(error?.message).toMatch(new RegExp(`\\(${code}: Connection error: handshake failed\\)$`));
  });

  it('anything else is not a security error, and withSecurityErrors passes it through unchanged', async () => {
    const refusedConnection = connectionError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9092');
    expect(kafkaSecurityError(refusedConnection)).toBeUndefined();
    expect(kafkaSecurityError('text')).toBeUndefined();
    await expect(withSecurityErrors(() => Promise.reject(refusedConnection))).rejects.toBe(refusedConnection);
    expect(await withSecurityErrors(() => Promise.resolve(7))).toBe(7);
  });
});
