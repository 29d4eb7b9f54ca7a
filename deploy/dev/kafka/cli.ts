/**
 * Runs a local Kafka broker until interrupted:
 *
 *   node dist/deploy/dev/kafka/cli.js [--port N] [--version V] [--heap-mb N]
 *
 * Prints exactly one line on stdout, `KAFKA_BROKERS=127.0.0.1:PORT`, once the
 * broker serves requests, so a script can `read` it or `eval` it; everything
 * else (progress, broker warnings) goes to stderr. SIGINT/SIGTERM stop the
 * broker, remove its temp dir and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalKafka, type LocalKafkaOptions } from './local-kafka.js';

runDevServerCli({
  name: 'Kafka',
  usage: 'usage: cli.js [--port N] [--version V] [--heap-mb N]',
  options: ['port', 'version', 'heap-mb'],
  parse: (values): LocalKafkaOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    version: values.version,
    heapMb: intOption('heap-mb', values['heap-mb'], 64, 65_536),
  }),
  describe: (options) => `Kafka ${options.version ?? process.env.KAFKA_VERSION ?? '4.4.0'}`,
  start: (options, onLog) => startLocalKafka({ ...options, onLog }),
  readyLine: (kafka) => `KAFKA_BROKERS=${kafka.brokers.join(',')}`,
});
