/**
 * kafkajs marks its protocol errors with `retriable`; connection and timeout
 * errors carry their own names. Classified here, once, so outputs decide
 * retry-or-drop without knowing kafkajs' error zoo.
 */
import { TributaryError } from '../errors.js';

const ALWAYS_RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
]);

interface KafkaLikeError {
  name?: unknown;
  retriable?: unknown;
  type?: unknown;
  cause?: unknown;
}

const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'TOPIC_AUTHORIZATION_FAILED',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INVALID_REQUIRED_ACKS',
]);

/** The broker refused a record batch or request for its size: retrying it unchanged can never succeed, splitting it can. */
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

export function isTooLargeKafkaError(error: unknown): boolean {
  // kafkajs wraps the broker's error (retries exhausted, non-retriable) in `cause`; bounded, as a cycle would loop.
  let candidate: unknown = error;
  for (let depth = 0; depth < 8 && candidate !== null && typeof candidate === 'object'; depth++) {
    const { type, cause } = candidate as KafkaLikeError;
    if (typeof type === 'string' && TOO_LARGE_TYPES.has(type)) return true;
    candidate = cause;
  }
  return false;
}

export function isRetriableKafkaError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const candidate = error as KafkaLikeError;
  if (typeof candidate.type === 'string' && PERMANENT_TYPES.has(candidate.type)) return false;
  // kafkajs wraps the last error of exhausted retries; judge by what actually failed.
  if (candidate.name === 'KafkaJSNumberOfRetriesExceeded' || candidate.name === 'KafkaJSNonRetriableError') {
    if (candidate.cause !== undefined) return isRetriableKafkaError(candidate.cause);
  }
  if (typeof candidate.name === 'string' && ALWAYS_RETRIABLE_NAMES.has(candidate.name)) return true;
  return candidate.retriable === true;
}

/** What a TLS failure means for the one who configured the client, by the code Node (or OpenSSL) gives it. */
const TLS_FAILURES: ReadonlyArray<[codes: readonly string[], explain: string]> = [
  [
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'UNABLE_TO_GET_ISSUER_CERT',
    ],
    "the broker's certificate is not signed by a CA the client trusts: check kafka.tls.ca_file",
  ],
  [['ERR_TLS_CERT_ALTNAME_INVALID'], "the broker's certificate does not name the host connected to: check kafka.tls.server_name and kafka.brokers"],
  [
    ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'],
    "the broker's certificate is outside its validity period (check the broker's certificate and kafka.tls.ca_file)",
  ],
  [
    [
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
    ],
    'the broker refused the client certificate (mTLS): check kafka.tls.cert_file and kafka.tls.key_file',
  ],
  [
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'],
    'the broker did not answer in TLS: check kafka.tls.enabled and that kafka.brokers name a TLS listener',
  ],
];

/**
 * A failure to authenticate or to set up TLS, as one clear error naming the configuration key to fix, or
 * undefined for any other error. Retriable: a rotated password file or certificate can make the next attempt
 * succeed, and a process that retries stays up (not ready) instead of crash-looping. The message quotes the
 * client library's reason, never a credential.
 */
export function kafkaSecurityError(error: unknown): TributaryError | undefined {
  let candidate: unknown = error;
  for (let depth = 0; depth < 8 && candidate !== null && typeof candidate === 'object'; depth++) {
    const { name, code, cause, message } = candidate as KafkaLikeError & { code?: unknown; message?: unknown };
    if (name === 'KafkaJSSASLAuthenticationError') {
      return new TributaryError('KAFKA_AUTH_FAILED', `Kafka refused the client's credentials: check kafka.sasl (${String(message)})`, {
        cause: error,
        retriable: true,
        context: { key: 'kafka.sasl' },
      });
    }
    if (typeof code === 'string') {
      const match = TLS_FAILURES.find(([codes]) => codes.includes(code));
      if (match !== undefined) {
        return new TributaryError('KAFKA_AUTH_FAILED', `TLS to Kafka failed: ${match[1]} (${code}: ${String(message)})`, {
          cause: error,
          retriable: true,
          context: { key: 'kafka.tls', tls_code: code },
        });
      }
    }
    candidate = cause;
  }
  return undefined;
}

/** Whether an error is {@link kafkaSecurityError}'s: the broker refused our credentials or TLS, rather than being away. */
export function refusedCredentials(error: unknown): boolean {
  return error instanceof TributaryError && error.code === 'KAFKA_AUTH_FAILED';
}

/** Runs a connecting call, turning an authentication or TLS failure into {@link kafkaSecurityError}'s error. */
export async function withSecurityErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw kafkaSecurityError(error) ?? error;
  }
}
