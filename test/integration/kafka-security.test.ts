import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalKafka, unsecuredJwt, type LocalKafka, type LocalKafkaSecurity } from '../../deploy/dev/kafka/local-kafka.js';
import { validateConfig } from '../../shared/config/load.js';
import { TributaryError } from '../../shared/errors.js';
import { createKafkaClient, type KafkaClient } from '../../shared/kafka/client.js';
import { kafkaConnectionSchema } from '../../shared/kafka/config.js';
import { makeTestCertificates } from '../../shared/test-support/tls-certificates.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { uniqueName } from '../helpers/kafka.js';

/**
 * Every way Tributary authenticates to Kafka, against a real broker with secured listeners (its own, started
 * here with `secure: true`; the shared plaintext broker has none): produce through the project's KafkaClient,
 * read the same values back through it, and each misconfiguration fails with one error naming its key.
 */

let kafka: LocalKafka;
let security: LocalKafkaSecurity;
let dir: string;

function client(connection: Record<string, unknown>): KafkaClient {
  const config = validateConfig(kafkaConnectionSchema, connection, 'kafka-security.test');
  return createKafkaClient(config, silentLogger(), 'tributary-security-test');
}

function saslSsl(sasl: Record<string, unknown>, tls: Record<string, unknown> = {}): Record<string, unknown> {
  return { brokers: security.saslSslBrokers, tls: { enabled: true, ca_file: security.caFile, ...tls }, sasl };
}

function mtls(tls: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brokers: security.mtlsBrokers,
    tls: { enabled: true, ca_file: security.caFile, cert_file: security.clientCertFile, key_file: security.clientKeyFile, ...tls },
  };
}

/** Creates a topic, produces `values` and reads them back, all through `kafkaClient` (admin, producer, consumer group). */
async function roundTrip(kafkaClient: KafkaClient, values: readonly string[]): Promise<string[]> {
  const topic = uniqueName('security');
  expect(await kafkaClient.topicAdmin().ensureTopics([{ topic, partitions: 1 }])).toEqual([topic]);
  const producer = kafkaClient.messageProducer();
  await producer.connect();
  try {
    await producer.send(
      topic,
      values.map((value) => ({ value })),
    );
  } finally {
    await producer.disconnect();
  }
  const read: string[] = [];
  await kafkaClient.readPartitionsToEnd({ topic, partitions: [0], groupPrefix: 'security-test' }, (message) =>
    read.push(message.value?.toString() ?? '<tombstone>'),
  );
  return read;
}

/** What connecting a producer with this config fails with. */
async function connectFailure(connection: Record<string, unknown>): Promise<TributaryError> {
  const producer = client(connection).messageProducer();
  try {
    await producer.connect();
  } catch (error) {
    return error as TributaryError;
  } finally {
    await producer.disconnect();
  }
  throw new Error('connected, but a failure was expected');
}

beforeAll(async () => {
  kafka = await startLocalKafka({ secure: true });
  security = kafka.security as LocalKafkaSecurity;
  dir = await mkdtemp(join(tmpdir(), 'tributary-kafka-security-'));
});

afterAll(async () => {
  // Undefined when the start failed; the start removed its own temp dir then.
  await (kafka as LocalKafka | undefined)?.stop();
});

describe('Kafka security: every mechanism round-trips through KafkaClient against a real secured broker', () => {
  const values = ['first line', 'second line ü', 'third line'];

  it.each(['scram-sha-256', 'scram-sha-512', 'plain'] as const)('SASL_SSL %s: produce and read back exactly the sent values', async (mechanism) => {
    expect(await roundTrip(client(saslSsl({ mechanism, username: security.username, password: security.password })), values)).toEqual(values);
  });

  it('SASL_SSL scram-sha-512 with password_file (a mounted secret, trailing newline)', async () => {
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${security.password}\n`);
    expect(await roundTrip(client(saslSsl({ mechanism: 'scram-sha-512', username: security.username, password_file: passwordFile })), values)).toEqual(values);
  });

  it('SASL_SSL scram-sha-256 re-reads password_file at each authentication: a fixed secret works without a new client', async () => {
    const passwordFile = join(dir, 'rotated-password');
    await writeFile(passwordFile, 'not-the-Pa55word\n');
    const kafkaClient = client(saslSsl({ mechanism: 'scram-sha-256', username: security.username, password_file: passwordFile }));
    await expect(kafkaClient.topicAdmin().ensureTopics([{ topic: uniqueName('rotated'), partitions: 1 }])).rejects.toMatchObject({
      code: 'KAFKA_AUTH_FAILED',
      context: { key: 'kafka.sasl' },
    });
    await writeFile(passwordFile, `${security.password}\n`);
    expect(await roundTrip(kafkaClient, values)).toEqual(values);
  });

  it('SASL_SSL oauthbearer with token_file (an unsigned JWT the broker validates for sub and exp)', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${unsecuredJwt('tributary-agent', 10 * 60_000)}\n`);
    expect(await roundTrip(client(saslSsl({ mechanism: 'oauthbearer', token_file: tokenFile })), values)).toEqual(values);
  });

  it('SASL_SSL oauthbearer with token_command (run without a shell, stdout is the token)', async () => {
    const script = `process.stdout.write(${JSON.stringify(unsecuredJwt('tributary-collector', 10 * 60_000))} + '\\n')`;
    expect(await roundTrip(client(saslSsl({ mechanism: 'oauthbearer', token_command: [process.execPath, '-e', script] })), values)).toEqual(values);
  });

  it('SASL_SSL oauthbearer re-runs token_command once the JWT is within refresh_before_expiry of exp, and the broker takes the new token', async () => {
    const counter = join(dir, 'token-runs');
    await writeFile(counter, '0');
    // Each run counts itself and prints an unsigned JWT expiring in 62 s: with refresh_before_expiry 60s it is due after 2 s.
    const script = [
      "const fs = require('fs');",
      `const runs = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;`,
      `fs.writeFileSync(${JSON.stringify(counter)}, String(runs));`,
      "const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');",
      'const now = Math.floor(Date.now() / 1000);',
      "process.stdout.write(b({ alg: 'none' }) + '.' + b({ sub: 'run-' + runs, iat: now, exp: now + 62 }) + '.');",
    ].join('\n');
    const kafkaClient = client(saslSsl({ mechanism: 'oauthbearer', token_command: [process.execPath, '-e', script], refresh_before_expiry: '60s' }));
    // Each topicAdmin() call opens its own connection, so each authenticates anew.
    const topic = uniqueName('oauth-refresh');
    expect(await kafkaClient.topicAdmin().ensureTopics([{ topic, partitions: 1 }])).toEqual([topic]);
    expect(await kafkaClient.topicAdmin().maxMessageBytes(topic)).toBe(1_048_588);
    expect(await readFile(counter, 'utf8')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await kafkaClient.topicAdmin().maxMessageBytes(topic)).toBe(1_048_588);
    expect(await readFile(counter, 'utf8')).toBe('2');
  });

  it('SSL with a client certificate (mTLS, ssl.client.auth=required)', async () => {
    expect(await roundTrip(client(mtls()), values)).toEqual(values);
  });
});

describe('Kafka security: each misconfiguration fails with one error naming the key to fix', () => {
  it.concurrent('a wrong SCRAM password is KAFKA_AUTH_FAILED naming kafka.sasl, never echoing the password', async () => {
    const error = await connectFailure(saslSsl({ mechanism: 'scram-sha-256', username: security.username, password: 'wrong-Pa55word' }));
    expect(error).toBeInstanceOf(TributaryError);
    expect({ code: error.code, retriable: error.retriable, message: error.message }).toEqual({
      code: 'KAFKA_AUTH_FAILED',
      retriable: true,
      message:
        "Kafka refused the client's credentials: check kafka.sasl (SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256)",
    });
    expect(error.message).not.toContain('wrong-Pa55word');
  });

  it.concurrent('a wrong PLAIN password is KAFKA_AUTH_FAILED naming kafka.sasl', async () => {
    const error = await connectFailure(saslSsl({ mechanism: 'plain', username: security.username, password: 'wrong-Pa55word' }));
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'KAFKA_AUTH_FAILED',
      message:
        "Kafka refused the client's credentials: check kafka.sasl (SASL PLAIN authentication failed: Authentication failed: Invalid username or password)",
    });
  });

  it.concurrent('an expired OAUTHBEARER token is KAFKA_AUTH_FAILED naming kafka.sasl', async () => {
    const tokenFile = join(dir, 'expired-token');
    await writeFile(tokenFile, unsecuredJwt('tributary-agent', 60_000, Date.now() - 10 * 60_000));
    const error = await connectFailure(saslSsl({ mechanism: 'oauthbearer', token_file: tokenFile }));
    expect({ code: error.code, key: error.context.key }).toEqual({ code: 'KAFKA_AUTH_FAILED', key: 'kafka.sasl' });
    expect(error.message).toBe(
      'Kafka refused the client\'s credentials: check kafka.sasl (SASL OAUTHBEARER authentication failed: the broker refused the token: {"status":"invalid_token"})',
    );
  });

  it.concurrent('a CA that did not sign the broker (unknown CA) is a TLS verification error naming kafka.tls.ca_file', async () => {
    const otherCa = await makeTestCertificates(await mkdtemp(join(dir, 'other-ca-')), '127.0.0.1');
    const error = await connectFailure(saslSsl({ mechanism: 'plain', username: security.username, password: security.password }, { ca_file: otherCa.caFile }));
    expect({ code: error.code, context: error.context }).toEqual({
      code: 'KAFKA_AUTH_FAILED',
      context: { key: 'kafka.tls', tls_code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    });
    expect(error.message).toBe(
      "TLS to Kafka failed: the broker's certificate is not signed by a CA the client trusts: check kafka.tls.ca_file (SELF_SIGNED_CERT_IN_CHAIN: Connection error: self-signed certificate in certificate chain)",
    );
  });

  it.concurrent('a server name the broker certificate does not carry is a hostname error naming kafka.tls.server_name', async () => {
    const error = await connectFailure(mtls({ server_name: 'kafka.example.com' }));
    expect({ code: error.code, context: error.context }).toEqual({
      code: 'KAFKA_AUTH_FAILED',
      context: { key: 'kafka.tls', tls_code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
    expect(error.message).toBe(
      "TLS to Kafka failed: the broker's certificate does not name the host connected to: check kafka.tls.server_name and kafka.brokers (ERR_TLS_CERT_ALTNAME_INVALID: Connection error: Hostname/IP does not match certificate's altnames: Host: kafka.example.com. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost)",
    );
  });

  it.concurrent('no client certificate on the mTLS listener is refused, naming kafka.tls.cert_file', async () => {
    const error = await connectFailure({ brokers: security.mtlsBrokers, tls: { enabled: true, ca_file: security.caFile } });
    expect({ code: error.code, key: error.context.key }).toEqual({ code: 'KAFKA_AUTH_FAILED', key: 'kafka.tls' });
    expect(error.message).toMatch(
      /^TLS to Kafka failed: the broker refused the client certificate \(mTLS\): check kafka\.tls\.cert_file and kafka\.tls\.key_file \(ERR_SSL_/,
    );
  });

  it.concurrent('an expired client certificate (signed by the right CA) is refused, naming kafka.tls.cert_file', async () => {
    const certDir = await mkdtemp(join(dir, 'expired-'));
    const key = join(certDir, 'client.key');
    const csr = join(certDir, 'client.csr');
    const cert = join(certDir, 'client.pem');
    const caKey = join(security.caFile, '..', 'ca.key');
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=expired-client'], { stdio: 'ignore' });
    // -days -1: notAfter a day before notBefore, so the certificate is expired from the moment it exists.
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', security.caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '-1'], {
      stdio: 'ignore',
    });
    const error = await connectFailure(mtls({ cert_file: cert, key_file: key }));
    expect({ code: error.code, context: error.context }).toEqual({
      code: 'KAFKA_AUTH_FAILED',
      context: { key: 'kafka.tls', tls_code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN' },
    });
  });
});
