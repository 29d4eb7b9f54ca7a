// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs from 'kafkajs';

const { logLevel: KafkaLogLevel } = kafkajs;

export type LogMethod = 'error' | 'warn' | 'info' | 'debug';

const LEVEL_NAMES: Record<number, LogMethod> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * What kafkajs reports that its caller reports better: a refused or timed-out
 * connection or a refused authentication (the error reaches the caller, which
 * retries and says so once, with the reason and the config key) and the
 * seed-broker retries of connecting. Logged at debug
 * so a broker that is away shows one clear line per attempt, not twenty.
 */
const CALLER_REPORTS = /^(Connection error|Connection timeout|Failed to connect to seed broker|SASL \S+( \S+)? authentication failed)/;
/** kafkajs' texts of Kafka's *_AUTHORIZATION_FAILED answers, of a CreateTopics answer with per-topic errors, and of a denied FindCoordinator. */
const DENIED_OR_NOT_CREATED = /not authorized|authorization failed|^Topic creation errors$|Failed to find group coordinator/i;
/** Answers a fresh or restarting broker gives while it elects leaders: expected states kafkajs retries, not errors. */
const TRANSIENT_BROKER_STATES = /leader|leadership election|does not host this topic-partition|coordinator is (loading|not available)|not available/i;

/**
 * The level a kafkajs log line deserves in our logs. kafkajs logs every failed response and every retried
 * request at ERROR; most are states it retries. Only those lose their level: a response or a retried request
 * that failed with a leader-election state (info), or anything retried (warn). What kafkajs gives up on (a
 * consumer crash, a response it does not retry) keeps its level, and a broker that is down is reported by the
 * caller, at warn or error (see CALLER_REPORTS).
 */
export function kafkaLogLevel(level: number, message: string, fields: Readonly<Record<string, unknown>>): LogMethod {
  const method = LEVEL_NAMES[level] ?? 'debug';
  if (CALLER_REPORTS.test(message)) return 'debug';
  // A refused SaslAuthenticate: the caller reports it once as KAFKA_AUTH_FAILED naming kafka.sasl.
  if (message.startsWith('Response SaslAuthenticate')) return 'debug';
  // A denial (or a topic not created, denials included): the caller reports it once, naming the ACL to grant.
  if (message.startsWith('Response ') && typeof fields.error === 'string' && DENIED_OR_NOT_CREATED.test(fields.error)) return 'debug';
  if (DENIED_OR_NOT_CREATED.test(message)) return 'debug';
  if (method !== 'error' && method !== 'warn') return method;
  const retried = fields.retryCount !== undefined;
  const error = typeof fields.error === 'string' ? fields.error : '';
  // "Response ListOffsets" with error "This server is not the leader…"; "Failed to send messages: This server is
  // not the leader…" with a retryCount.
  if ((message.startsWith('Response ') || retried) && (TRANSIENT_BROKER_STATES.test(error) || (retried && TRANSIENT_BROKER_STATES.test(message))))
    return 'info';
  // kafkajs reports every retried request as ERROR; they are expected while a broker restarts.
  return method === 'error' && retried ? 'warn' : method;
}
