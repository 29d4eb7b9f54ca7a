import { Collector } from '../../collector/collector.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { validateConfig } from '../../shared/config/load.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { brokers, testKafka, uniqueName } from './kafka.js';

export interface TestMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Creates a one-partition raw topic and writes the given messages to it, in order. */
export async function seedRawTopic(topic: string, messages: readonly TestMessage[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = testKafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: [...messages] });
  await producer.disconnect();
}

/**
 * An in-process collector reading `rawTopic` with its own group and dead-letter
 * topic, telemetry on a free port, and `config` (outputs, parsers, …) on top.
 */
export async function startTestCollector(rawTopic: string, config: Record<string, unknown>): Promise<Collector> {
  const collector = new Collector(
    validateConfig(
      collectorConfigSchema,
      {
        kafka: { brokers: brokers() },
        collector: { group_id: uniqueName('test-group') },
        input: { topics: [rawTopic] },
        dead_letter: { topic: uniqueName('test-dlq') },
        telemetry: { port: 0 },
        ...config,
      },
      'test collector config',
    ),
    silentLogger(),
  );
  await collector.start();
  return collector;
}
