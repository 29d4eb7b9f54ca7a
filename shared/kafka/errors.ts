/**
 * kafkajs marks its protocol errors with `retriable`; connection and timeout
 * errors carry their own names. Classified here, once, so outputs decide
 * retry-or-drop without knowing kafkajs' error zoo.
 */
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
