/**
 * kafkajs marks its protocol errors with `retriable`; connection and timeout
 * errors carry their own names. Classified here, once, so outputs decide
 * retry-or-drop without knowing kafkajs' error zoo.
 */
import { TributaryError } from '../errors.js';
import { explainTlsFailure, tlsErrorCode, type TlsConfigKeys } from '../tls-failures.js';

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

const KAFKA_TLS_KEYS: TlsConfigKeys = { peer: 'the broker', tls: 'kafka.tls', address: 'kafka.brokers', tlsSwitch: 'kafka.tls.enabled' };

/**
 * A failure to authenticate or to set up TLS, as one clear error naming the configuration key to fix, or
 * undefined for any other error. Retriable: a rotated password file or certificate can make the next attempt
 * succeed, and a process that retries stays up (not ready) instead of crash-looping. The message quotes the
 * client library's reason, never a credential.
 */
export function kafkaSecurityError(error: unknown): TributaryError | undefined {
  let candidate: unknown = error;
  for (let depth = 0; depth < 8 && candidate !== null && typeof candidate === 'object'; depth++) {
    const { name, cause, message } = candidate as KafkaLikeError & { message?: unknown };
    if (name === 'KafkaJSSASLAuthenticationError') {
      return new TributaryError('KAFKA_AUTH_FAILED', `Kafka refused the client's credentials: check kafka.sasl (${String(message)})`, {
        cause: error,
        retriable: true,
        context: { key: 'kafka.sasl' },
      });
    }
    const tlsCode = tlsErrorCode(candidate);
    const explanation = tlsCode === undefined ? undefined : explainTlsFailure(tlsCode, KAFKA_TLS_KEYS);
    if (explanation !== undefined) {
      return new TributaryError('KAFKA_AUTH_FAILED', `TLS to Kafka failed: ${explanation} (${tlsCode}: ${String(message)})`, {
        cause: error,
        retriable: true,
        context: { key: 'kafka.tls', tls_code: tlsCode },
      });
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
