/**
 * Runs a local Kafka broker until interrupted:
 *
 *   node dist/deploy/dev/kafka/cli.js [--port N] [--version V] [--heap-mb N] [--secure]
 *
 * Prints `KAFKA_BROKERS=127.0.0.1:PORT` on stdout once the broker serves
 * requests, so a script can `read` it or `eval` it; everything else (progress,
 * broker warnings) goes to stderr. With --secure, more `NAME=value` lines
 * follow (shell-safe values, so `eval` works): the secured listeners, the CA,
 * the client certificate and key, the SASL user, and an OAUTHBEARER token
 * valid for an hour. SIGINT/SIGTERM stop the broker, remove its temp dir
 * (certificates included) and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalKafka, unsecuredJwt, type LocalKafka, type LocalKafkaOptions } from './local-kafka.js';

const TOKEN_LIFETIME_MS = 60 * 60_000;

function readyLines(kafka: LocalKafka): string {
  const lines = [`KAFKA_BROKERS=${kafka.brokers.join(',')}`];
  const security = kafka.security;
  if (security) {
    lines.push(
      `KAFKA_SASL_SSL_BROKERS=${security.saslSslBrokers.join(',')}`,
      `KAFKA_MTLS_BROKERS=${security.mtlsBrokers.join(',')}`,
      `KAFKA_CA_FILE=${security.caFile}`,
      `KAFKA_CLIENT_CERT_FILE=${security.clientCertFile}`,
      `KAFKA_CLIENT_KEY_FILE=${security.clientKeyFile}`,
      `KAFKA_SASL_MECHANISMS=scram-sha-256,scram-sha-512,plain,oauthbearer`,
      `KAFKA_SASL_USERNAME=${security.username}`,
      `KAFKA_SASL_PASSWORD=${security.password}`,
      `KAFKA_OAUTHBEARER_TOKEN=${unsecuredJwt(security.username, TOKEN_LIFETIME_MS)}`,
    );
  }
  return lines.join('\n');
}

runDevServerCli({
  name: 'Kafka',
  usage: 'usage: cli.js [--port N] [--version V] [--heap-mb N] [--secure]',
  options: ['port', 'version', 'heap-mb'],
  flags: ['secure'],
  parse: (values): LocalKafkaOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    version: values.version,
    heapMb: intOption('heap-mb', values['heap-mb'], 64, 65_536),
    secure: values.secure === 'true',
  }),
  describe: (options) => `Kafka ${options.version ?? process.env.KAFKA_VERSION ?? '4.4.0'}${options.secure ? ' (secured listeners)' : ''}`,
  start: (options, onLog) => startLocalKafka({ ...options, onLog }),
  readyLine: readyLines,
});
