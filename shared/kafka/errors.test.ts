import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { isRetriableKafkaError, kafkaAccessError, kafkaSecurityError, withSecurityErrors } from './errors.js';

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

describe('kafkaAccessError', () => {
  const produce = [{ resource: 'topic', names: ['raw'], operations: ['Write', 'Describe'] }] as const;
  const consume = [
    { resource: 'group', names: ['collectors'], operations: ['Read'] },
    { resource: 'topic', names: ['raw'], operations: ['Read', 'Describe'] },
  ] as const;
  const protocolError = (type: string, extra: object = {}) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: false }, extra);

  it('a denied produce, wrapped by kafkajs, names the operations, the topic and the principal, retriable', () => {
    const wrapped = Object.assign(new Error('retries exhausted', { cause: protocolError('TOPIC_AUTHORIZATION_FAILED') }), { name: 'KafkaJSNonRetriableError' });
    const error = kafkaAccessError(wrapped, produce, 'User:agent');
    expect(error?.code).toBe('KAFKA_ACCESS_DENIED');
    expect(error?.retriable).toBe(true);
    expect(error?.message).toBe(
      'Kafka denied TOPIC_AUTHORIZATION_FAILED on topic raw: grant Write and Describe on topic raw to principal User:agent (see README "Kafka security")',
    );
  });

  it('the group of a consumer is named for GROUP_AUTHORIZATION_FAILED, and the topics the broker listed per topic', () => {
    expect(kafkaAccessError(protocolError('GROUP_AUTHORIZATION_FAILED'), consume, 'User:c')?.message).toContain(
      'grant Read on group collectors to principal User:c',
    );
    const aggregate = Object.assign(new Error('Topic creation errors'), {
      name: 'KafkaJSAggregateError',
      errors: [protocolError('TOPIC_AUTHORIZATION_FAILED', { topic: 'a' }), protocolError('TOPIC_AUTHORIZATION_FAILED', { topic: 'b' })],
    });
    const create = [{ resource: 'topic', names: ['a', 'b', 'c'], operations: ['Describe', 'Create'] }] as const;
    expect(kafkaAccessError(aggregate, create, 'User:c')?.message).toContain('on topic a, b: grant Describe and Create on topic a, b');
  });

  it('a coordinator kafkajs could not find (the broker denied FindCoordinator) reads as the group denial it usually is', () => {
    const notFound = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' });
    expect(kafkaAccessError(notFound, consume, 'User:c')?.message).toBe(
      'Kafka found no coordinator for group collectors, as when it denies GROUP_AUTHORIZATION_FAILED: grant Read on group collectors to principal User:c (see README "Kafka security")',
    );
  });

  it('cluster and transactional-id denials are mapped too; anything else is not a denial', () => {
    expect(kafkaAccessError(protocolError('CLUSTER_AUTHORIZATION_FAILED'), produce, 'User:a')?.message).toContain(
      'Kafka denied CLUSTER_AUTHORIZATION_FAILED on cluster: grant an ACL allowing this request on cluster',
    );
    expect(kafkaAccessError(protocolError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED'), produce, 'User:a')?.code).toBe('KAFKA_ACCESS_DENIED');
    expect(kafkaAccessError(protocolError('NOT_LEADER_FOR_PARTITION'), produce, 'User:a')).toBeUndefined();
  });
});
