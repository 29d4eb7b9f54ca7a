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
import { parseArgs } from 'node:util';
import { startLocalKafka, type LocalKafkaOptions } from './local-kafka.js';

const USAGE = 'usage: cli.js [--port N] [--version V] [--heap-mb N]';

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return parsed;
}

async function main(): Promise<number> {
  let options: LocalKafkaOptions;
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string' },
        version: { type: 'string' },
        'heap-mb': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = {
      port: intOption('port', values.port, 0, 65_535),
      version: values.version,
      heapMb: intOption('heap-mb', values['heap-mb'], 64, 65_536),
      onLog: (line) => process.stderr.write(`[kafka] ${line}\n`),
    };
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }

  // Signals that arrive while the broker is still starting must not leave a
  // JVM behind: remember them and stop right after the start settles.
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => stopRequested?.());
  }

  const started = Date.now();
  process.stderr.write(`starting Kafka ${options.version ?? process.env.KAFKA_VERSION ?? '4.4.0'}...\n`);
  const kafka = await startLocalKafka(options);
  process.stderr.write(`Kafka ${kafka.version} ready in ${Date.now() - started} ms (data: ${kafka.dataDir})\n`);
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers.join(',')}\n`);

  await stopSignal;
  process.stderr.write('stopping Kafka...\n');
  await kafka.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
