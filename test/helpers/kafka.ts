import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import kafkajs, { type Kafka } from 'kafkajs';
import { decodeFrame } from '../../shared/frame/frame-codec.js';
import { registerZstdCodec } from '../../shared/kafka/zstd-codec.js';

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

/** Reads a topic from the beginning until `count` messages arrived (or fails after `timeoutMs`). */
export async function readTopic(topic: string, count: number, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('test-reader') });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(Array.isArray(value) ? value[0] : value);
          messages.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), headers });
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Waits for a condition, polling; tests wait on outcomes, never on fixed sleeps. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Follows a raw topic from the beginning, decoding frames, until `done` says
 * the events seen so far are enough (or fails after `timeoutMs`).
 */
export async function collectRawEvents<T>(topic: string, done: (events: readonly T[]) => boolean, timeoutMs = 120_000, brokerList?: string[]): Promise<T[]> {
  const consumer = testKafka(brokerList).consumer({ groupId: uniqueName('test-raw-reader'), maxBytesPerPartition: 8 * 1024 * 1024 });
  const events: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`collected ${events.length} events from ${topic} in ${timeoutMs} ms without reaching the goal`)),
        timeoutMs,
      );
      void consumer.run({
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) {
            const headers: Record<string, Buffer | undefined> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              const first = Array.isArray(value) ? value[0] : value;
              headers[name] = first === undefined ? undefined : Buffer.from(first);
            }
            events.push(...(decodeFrame(message.value, headers).events as T[]));
          }
          if (done(events)) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return events;
}
