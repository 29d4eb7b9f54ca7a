import type { ConnectionOptions } from 'node:tls';
// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs, { type LogEntry, type Mechanism, type SASLOptions } from 'kafkajs';
import { readSecretFileSync } from '../secret-files.js';
import type { Logger } from '../telemetry/logger.js';
import type { KafkaConnectionConfig } from './config.js';
import { oauthBearerMechanism } from './oauth-bearer-mechanism.js';
import { oauthBearerTokenProvider } from './oauth-token.js';
import { groupConsumerFor, type GroupConsumer, type GroupConsumerOptions } from './consumer.js';
import { readPartitionsToEnd, type PartitionMessage, type ReadPartitionsRequest } from './partition-reader.js';
import { kafkaLogLevel } from './log-levels.js';
import { AckedProducer, type MessageProducer } from './producer.js';
import { topicAdminFor, type TopicAdmin } from './topics.js';
import { registerZstdCodec } from './zstd-codec.js';

const { Kafka: KafkaClass, logLevel: KafkaLogLevel, Partitioners } = kafkajs;

/**
 * The only way into Kafka. It speaks in the small types of this folder and no
 * kafkajs type crosses it (ESLint lets only shared/kafka import kafkajs), so the
 * client library can be replaced (kafkajs' last release is 2.2.4) by changing
 * this folder alone, without touching agents or collectors.
 */
export interface KafkaClient {
  readonly clientId: string;
  /** A producer waiting for acks=all, failing with classified TributaryErrors; connect it before sending. */
  messageProducer(): MessageProducer;
  /** A consumer-group member committing only what its handler marked processed, heartbeating while it works. */
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  /** Creates topics and reads their limits; connects for each call. */
  topicAdmin(): TopicAdmin;
  /** Reads partitions of a topic from the beginning to their current end, then leaves no group behind. */
  readPartitionsToEnd(request: ReadPartitionsRequest, onMessage: (message: PartitionMessage) => void): Promise<void>;
}

function tlsOptions(config: KafkaConnectionConfig): ConnectionOptions | undefined {
  const tls = config.tls;
  if (!tls?.enabled) return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file) options.ca = [readSecretFileSync(tls.ca_file, 'kafka.tls.ca_file')];
  if (tls.cert_file) options.cert = readSecretFileSync(tls.cert_file, 'kafka.tls.cert_file');
  if (tls.key_file) options.key = readSecretFileSync(tls.key_file, 'kafka.tls.key_file');
  if (tls.server_name) options.servername = tls.server_name;
  return options;
}

function saslOptions(config: KafkaConnectionConfig): SASLOptions | Mechanism | undefined {
  const sasl = config.sasl;
  if (!sasl) return undefined;
  if (sasl.mechanism === 'oauthbearer') return oauthBearerMechanism(oauthBearerTokenProvider(sasl));
  const options: SASLOptions = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password ?? '' };
  const passwordFile = sasl.password_file;
  // The schema guarantees exactly one of password and password_file.
  if (passwordFile === undefined) return options;
  // Read now, so a missing file fails the start naming the key; then re-read at every authentication (kafkajs
  // reads sasl.password from this very object each time), so a rotated or fixed secret takes effect on the next
  // connection without a restart.
  readSecretFileSync(passwordFile, 'kafka.sasl.password_file');
  Object.defineProperty(options, 'password', { enumerable: true, get: () => readSecretFileSync(passwordFile, 'kafka.sasl.password_file') });
  return options;
}

/** kafkajs logs connection churn at ERROR; routed through our logger so levels and format stay one. */
function logCreatorFor(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
      kafkaLogger[kafkaLogLevel(level, message, rest)](rest, message);
    };
}

export function createKafkaClient(config: KafkaConnectionConfig, logger: Logger, defaultClientId: string): KafkaClient {
  registerZstdCodec();
  const clientId = config.client_id ?? defaultClientId;
  const ssl = tlsOptions(config);
  const sasl = saslOptions(config);
  const kafka = new KafkaClass({
    clientId,
    brokers: config.brokers,
    connectionTimeout: config.connection_timeout,
    requestTimeout: config.request_timeout,
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreatorFor(logger),
    retry: { initialRetryTime: 250, maxRetryTime: 5_000, retries: 8 },
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  });
  return {
    clientId,
    messageProducer: () =>
      new AckedProducer(
        kafka.producer({
          // Topics are created by ensureTopics with their partition counts; never implicitly with broker defaults.
          allowAutoTopicCreation: false,
          // Ordering per key: one in-flight request per broker, so a retried batch cannot overtake the next.
          maxInFlightRequests: 1,
          idempotent: false,
          // murmur2, as the Java client: a key lands in the same partition whichever client produced it.
          createPartitioner: Partitioners.DefaultPartitioner,
        }),
      ),
    groupConsumer: (options) => groupConsumerFor(kafka, options),
    topicAdmin: () => topicAdminFor(kafka),
    readPartitionsToEnd: (request, onMessage) => readPartitionsToEnd(kafka, logger, request, onMessage),
  };
}
