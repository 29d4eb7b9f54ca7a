import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import kafkajs, { type Kafka } from 'kafkajs';
import { decodeFrame } from '../../shared/frame/frame-codec.js';
import { registerZstdCodec } from '../../shared/kafka/zstd-codec.js';
import { waitFor as sharedWaitFor } from '../../shared/test-support/wait.js';

const { Kafka: KafkaClass, logLevel } = kafkajs;

export function brokers(): string[] {
  // inject() is typed as always present; it is empty when this runs outside the integration project.
  const provided = (inject('kafkaBrokers') as string | undefined) || process.env.KAFKA_BROKERS;
  if (!provided) throw new Error('no Kafka: the integration global setup did not run');
  return provided.split(',');
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A plain kafkajs client for test assertions, independent of the code under test. */
export function testKafka(brokerList: string[] = brokers()): Kafka {
  registerZstdCodec();
  return new KafkaClass({ clientId: 'tributary-test', brokers: brokerList, logLevel: logLevel.NOTHING });
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads `topic` from the beginning with a fresh group, handing each message to
 * `take` until it returns true (or failing after `timeoutMs`).
 */
export async function consumeUntil(
  topic: string,
  take: (message: ReadMessage) => boolean,
  describe: () => string,
  timeoutMs: number,
  brokerList?: string[],
): Promise<void> {
  const kafka = testKafka(brokerList);
  // Outputs may create their topic after they report ready (the metrics output does, to run while Kafka is away).
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(`topic ${topic} to exist`, async () => ((await admin.listTopics()).includes(topic) ? true : undefined), timeoutMs);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), maxBytesPerPartition: 8 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${describe()} from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(Array.isArray(value) ? value[0] : value);
            const read = {
              partition: batch.partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value ?? Buffer.alloc(0),
              headers,
            };
            if (take(read)) {
              clearTimeout(timer);
              resolve();
              break;
            }
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Messages in a topic now, over all partitions (high minus low watermark). */
export async function messageCount(topic: string, brokerList?: string[]): Promise<number> {
  const admin = testKafka(brokerList).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a topic from the beginning until `count` messages arrived (or fails after `timeoutMs`). */
export async function readTopic(topic: string, count: number, timeoutMs = 60_000, brokerList?: string[]): Promise<ReadMessage[]> {
  const messages: ReadMessage[] = [];
  if (count === 0) return messages;
  await consumeUntil(
    topic,
    (message) => messages.push(message) >= count,
    () => `read ${messages.length} of ${count} messages`,
    timeoutMs,
    brokerList,
  );
  return messages;
}

/**
 * Waits for a condition, polling; tests wait on outcomes, never on fixed sleeps. The shared wait
 * (shared/test-support/wait.ts) with the patience real brokers and processes need.
 */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  return sharedWaitFor(what, probe, timeoutMs, intervalMs);
}

/**
 * Follows a raw topic from the beginning, decoding frames, until `done` says
 * the events seen so far are enough (or fails after `timeoutMs`).
 */
export async function collectRawEvents<T>(topic: string, done: (events: readonly T[]) => boolean, timeoutMs = 120_000, brokerList?: string[]): Promise<T[]> {
  const events: T[] = [];
  await consumeUntil(
    topic,
    (message) => {
      events.push(...(decodeFrame(message.value, message.headers).events as T[]));
      return done(events);
    },
    () => `collected ${events.length} events without reaching the goal`,
    timeoutMs,
    brokerList,
  );
  return events;
}
