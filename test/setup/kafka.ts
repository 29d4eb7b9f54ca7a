import type { TestProject } from 'vitest/node';
import { startLocalKafka, type LocalKafka } from '../../deploy/dev/kafka/local-kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

let broker: LocalKafka | undefined;

/**
 * Integration tests run against a real broker: the one named by KAFKA_BROKERS,
 * or one started here from Maven Central jars (KAFKA_VERSION picks the version).
 */
export async function setup(project: TestProject): Promise<void> {
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    const started = Date.now();
    broker = await startLocalKafka();
    brokers = broker.brokers.join(',');
    process.stderr.write(`[test setup] Kafka ${broker.version} on ${brokers} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  process.env.KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
}

export async function teardown(): Promise<void> {
  await broker?.stop();
}
