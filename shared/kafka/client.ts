import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions } from 'node:tls';
// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs, { type ISocketFactory, type LogEntry, type Mechanism, type SASLOptions } from 'kafkajs';
import { filesVersionSync, watchFileReload } from '../file-reload.js';
import { readCertificateFile, readSecretFileSync } from '../secret-files.js';
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
import { KafkaAccess } from './errors.js';

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

type KafkaTlsConfig = NonNullable<KafkaConnectionConfig['tls']>;

const TLS_FILE_KEYS = ['ca_file', 'cert_file', 'key_file'] as const;

/** The TLS options of a connection, from the files as they are now; a key not matching its certificate throws. */
async function loadTlsOptions(tls: KafkaTlsConfig): Promise<ConnectionOptions> {
  const read = (key: (typeof TLS_FILE_KEYS)[number]) => {
    const path = tls[key];
    return path === undefined ? Promise.resolve(undefined) : readCertificateFile(path, `kafka.tls.${key}`);
  };
  const [ca, cert, key] = await Promise.all(TLS_FILE_KEYS.map(read));
  const files = { ...(ca && { ca: [ca] }), ...(cert && { cert }), ...(key && { key }) };
  // What tls.connect would reject at the next connection (a renewed certificate beside the old key), rejected now.
  createSecureContext(files);
  return { ...fixedTlsOptions(tls), ...files };
}

function fixedTlsOptions(tls: KafkaTlsConfig): ConnectionOptions {
  return { rejectUnauthorized: !tls.insecure_skip_verify, ...(tls.server_name !== undefined && { servername: tls.server_name }) };
}

/**
 * kafkajs takes its TLS options once, up front; its `socketFactory` is called for every new connection. So the
 * options live here, re-read by the shared file watcher when `kafka.tls` files change (every `reload_interval`),
 * and each new connection to a broker uses the files as they are then. Open connections keep their handshake.
 * Read synchronously at first, so a missing file fails the start naming the key.
 */
function reloadingTlsSocketFactory(tls: KafkaTlsConfig, logger: Logger): { initial: ConnectionOptions; socketFactory: ISocketFactory } {
  const paths = TLS_FILE_KEYS.map((key) => tls[key]).filter((path) => path !== undefined);
  const version = filesVersionSync(paths);
  let current: ConnectionOptions = { ...fixedTlsOptions(tls) };
  if (tls.ca_file) current.ca = [readSecretFileSync(tls.ca_file, 'kafka.tls.ca_file')];
  if (tls.cert_file) current.cert = readSecretFileSync(tls.cert_file, 'kafka.tls.cert_file');
  if (tls.key_file) current.key = readSecretFileSync(tls.key_file, 'kafka.tls.key_file');
  if (paths.length > 0) {
    // Never stopped: one per client, which lives as long as the process; the timer does not keep it alive.
    watchFileReload({
      paths,
      initialVersion: version,
      intervalMs: tls.reload_interval,
      load: () => loadTlsOptions(tls),
      apply: (options) => {
        current = options;
      },
      onReloaded: () => logger.info({ cert_file: tls.cert_file, ca_file: tls.ca_file }, 'Kafka TLS files reloaded; new connections use them'),
      onFailed: (message) =>
        logger.warn(
          { cert_file: tls.cert_file, ca_file: tls.ca_file, err: message },
          'Kafka TLS files changed but cannot be loaded; new connections keep the previous ones',
        ),
    });
  }
  return {
    initial: current,
    // kafkajs' own factory, but with the options of now.
    socketFactory: ({ host, port, onConnect }) => {
      const socket = tlsConnect({ host, port, ...(isIP(host) === 0 && { servername: host }), ...current }, onConnect);
      socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
      return socket;
    },
  };
}

/** As kafkajs' default socket factory. */
const KEEP_ALIVE_DELAY_MS = 60_000;

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

/**
 * The principal the broker's authorizer sees for this client, as Kafka's default principal builders name it, so a
 * denial can say whom to grant: `User:<username>` for SASL PLAIN and SCRAM, `User:<subject DN>` of the client
 * certificate for mTLS (RFC 2253 order, as Kafka prints it), ANONYMOUS otherwise. Read when a denial is reported,
 * so a rotated certificate is named as it is now.
 */
function principalOf(config: KafkaConnectionConfig): () => string {
  const sasl = config.sasl;
  if (sasl !== undefined) return () => (sasl.mechanism === 'oauthbearer' ? "User:<the token's sub claim>" : `User:${sasl.username}`);
  const certFile = config.tls?.enabled ? config.tls.cert_file : undefined;
  if (certFile === undefined) return () => 'User:ANONYMOUS';
  return () => {
    try {
      // Node lists the subject's RDNs one per line, most significant first; Kafka (RFC 2253) the other way round, comma-joined.
      return `User:${new X509Certificate(readFileSync(certFile)).subject.split('\n').reverse().join(',')}`;
    } catch {
      return `User:<the subject of kafka.tls.cert_file>`;
    }
  };
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
  const tls = config.tls?.enabled ? reloadingTlsSocketFactory(config.tls, logger) : undefined;
  const sasl = saslOptions(config);
  const access = new KafkaAccess(principalOf(config));
  const kafka = new KafkaClass({
    clientId,
    brokers: config.brokers,
    connectionTimeout: config.connection_timeout,
    requestTimeout: config.request_timeout,
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreatorFor(logger),
    retry: { initialRetryTime: 250, maxRetryTime: 5_000, retries: 8 },
    ...(tls ? { ssl: tls.initial, socketFactory: tls.socketFactory } : {}),
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
        access,
      ),
    groupConsumer: (options) => groupConsumerFor(kafka, options, access),
    topicAdmin: () => topicAdminFor(kafka, access),
    readPartitionsToEnd: (request, onMessage) => readPartitionsToEnd(kafka, logger, access, request, onMessage),
  };
}
