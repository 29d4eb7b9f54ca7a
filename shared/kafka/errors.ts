/**
 * kafkajs marks its protocol errors with `retriable`; connection and timeout
 * errors carry their own names. Classified here, once, so outputs decide
 * retry-or-drop without knowing kafkajs' error zoo.
 */
import { TributaryError } from '../errors.js';
import { explainTlsFailure, tlsFailure, type TlsFailureKeys } from '../tls-failures.js';

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

/** How a TLS failure to Kafka is explained (shared/tls-failures.ts words it). */
const KAFKA_TLS_KEYS: TlsFailureKeys = {
  peer: 'broker',
  tls: 'kafka.tls',
  address: 'kafka.brokers',
  notTls: 'check kafka.tls.enabled and that kafka.brokers name a TLS listener',
};

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
    candidate = cause;
  }
  const tls = tlsFailure(error);
  if (tls === undefined) return undefined;
  return new TributaryError('KAFKA_AUTH_FAILED', `TLS to Kafka failed: ${explainTlsFailure(tls.kind, KAFKA_TLS_KEYS)} (${tls.code}: ${tls.message})`, {
    cause: error,
    retriable: true,
    context: { key: 'kafka.tls', tls_code: tls.code },
  });
}

/** Whether an error is {@link kafkaSecurityError}'s: the broker refused our credentials or TLS, rather than being away. */
export function refusedCredentials(error: unknown): boolean {
  return error instanceof TributaryError && error.code === 'KAFKA_AUTH_FAILED';
}

/** Kafka's authorization error codes, by the kind of resource an ACL must name to allow the request. */
const ACCESS_DENIED_RESOURCES: Readonly<Record<string, KafkaAclResource>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
};

export type KafkaAclResource = 'topic' | 'group' | 'cluster' | 'transactional id';

/** What a call needs the broker to allow, to be named when it is denied: `Write` on topic `raw`. */
export interface KafkaAccessNeed {
  readonly resource: KafkaAclResource;
  /** The topics or group the call touches; `kafka-cluster` for the cluster. */
  readonly names: readonly string[];
  /** The ACL operations, as `kafka-acls.sh --operation` spells them: `Write`, `Read`, `Describe`, `Create`. */
  readonly operations: readonly string[];
}

/** The denial's error code and, when the broker said which (per-topic answers), the topics it denied. */
function findDenial(error: unknown): { type: string; topics: string[]; inferred?: true } | undefined {
  const pending: unknown[] = [error];
  let found: { type: string; topics: string[]; inferred?: true } | undefined;
  // Bounded: kafkajs nests causes and aggregates; a cycle would loop.
  for (let seen = 0; seen < 64 && pending.length > 0; seen++) {
    const candidate = pending.shift();
    if (candidate === null || typeof candidate !== 'object') continue;
    const { type, cause, topic, errors } = candidate as KafkaLikeError & { topic?: unknown; errors?: unknown };
    if (typeof type === 'string' && ACCESS_DENIED_RESOURCES[type] !== undefined && (found === undefined || found.type === type)) {
      found ??= { type, topics: [] };
      if (typeof topic === 'string' && !found.topics.includes(topic)) found.topics.push(topic);
    }
    if (cause !== undefined) pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  // kafkajs asks every broker for the group's coordinator and, when all refuse, drops their answers for this
  // error: a broker denies FindCoordinator to a principal without Describe on the group (seen with KRaft's
  // StandardAuthorizer), and a reachable broker has no other reason to find none for long.
  if (found === undefined && (error as { name?: unknown } | null)?.name === 'KafkaJSGroupCoordinatorNotFound')
    return { type: 'GROUP_AUTHORIZATION_FAILED', topics: [], inferred: true };
  return found;
}

/**
 * An authorization failure (TOPIC_, GROUP_, CLUSTER_ or TRANSACTIONAL_ID_AUTHORIZATION_FAILED) as one error naming
 * what to grant to whom: `Kafka denied TOPIC_AUTHORIZATION_FAILED on topic raw: grant Write on topic raw to
 * principal User:agent (see README "Kafka security")`; undefined for any other error. Retriable: an operator adding
 * the ACL makes the next attempt succeed, and a process that waits stays up, not ready, losing nothing.
 */
export function kafkaAccessError(error: unknown, needs: readonly KafkaAccessNeed[], principal: string): TributaryError | undefined {
  const denial = findDenial(error);
  if (denial === undefined) return undefined;
  const resource = ACCESS_DENIED_RESOURCES[denial.type] as KafkaAclResource;
  const need = needs.find((candidate) => candidate.resource === resource);
  const names = denial.topics.length > 0 ? denial.topics : (need?.names ?? []);
  const on = `${resource}${names.length === 0 ? '' : ` ${names.join(', ')}`}`;
  const grant = need === undefined ? 'an ACL allowing this request' : need.operations.join(' and ');
  const what = denial.inferred ? `found no coordinator for ${on}, as when it denies ${denial.type}` : `denied ${denial.type} on ${on}`;
  return new TributaryError('KAFKA_ACCESS_DENIED', `Kafka ${what}: grant ${grant} on ${on} to principal ${principal} (see README "Kafka security")`, {
    cause: error,
    retriable: true,
    context: { principal, resource, names, operations: need?.operations ?? [] },
  });
}

/** Whether the broker's authorizer denied a request ({@link kafkaAccessError}'s error). */
export function deniedAccess(error: unknown): boolean {
  return error instanceof TributaryError && error.code === 'KAFKA_ACCESS_DENIED';
}

/**
 * Names the ACLs a call needs when the broker denies it. One per client: the principal (`User:<name>` of the SASL
 * user, the mTLS certificate's subject) is how an operator finds the ACLs to add.
 */
export class KafkaAccess {
  constructor(private readonly principal: () => string) {}

  /** Turns an authorization failure of `call` into {@link kafkaAccessError}'s error; other errors pass unchanged. */
  async guard<T>(needs: readonly KafkaAccessNeed[], call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.explain(error, needs) ?? error;
    }
  }

  explain(error: unknown, needs: readonly KafkaAccessNeed[]): TributaryError | undefined {
    return kafkaAccessError(error, needs, this.principal());
  }
}

/** Runs a connecting call, turning an authentication or TLS failure into {@link kafkaSecurityError}'s error. */
export async function withSecurityErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw kafkaSecurityError(error) ?? error;
  }
}
