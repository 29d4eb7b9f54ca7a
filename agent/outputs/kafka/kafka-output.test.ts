import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import { encodeEvents } from '../../../shared/frame/frame-codec.js';
import type { MessageProducer, OutgoingMessage } from '../../../shared/kafka/producer.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import type { OutgoingFrame } from '../../framer/framer.js';
import { kafkaOutputSchema } from './config.js';
import { KafkaOutput } from './kafka-output.js';

/** A producer whose sends complete only when the test says so. */
class ControlledProducer implements MessageProducer {
  readonly sends: Array<{ messages: readonly OutgoingMessage[]; settle: (error?: Error) => void }> = [];
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  send(_topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise((resolve, reject) => this.sends.push({ messages, settle: (error) => (error ? reject(error) : resolve()) }));
  }
}

function frame(key: string, body: string, delivered: string[]): OutgoingFrame {
  return { key, frame: encodeEvents('raw.log.v1', [{ body }]), onDelivered: () => delivered.push(body) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function output(producer: MessageProducer, overrides: Record<string, unknown> = {}) {
  const { families, metrics } = testComponentMetrics();
  const config = kafkaOutputSchema.parse({ retry: { initial_backoff: 1, max_backoff: 1 }, drain_timeout: 1000, ...overrides });
  return { families, output: new KafkaOutput(config, producer, () => Promise.resolve([]), metrics, silentLogger()) };
}

describe('KafkaOutput', () => {
  it('reports delivery only after the broker acknowledged', async () => {
    const producer = new ControlledProducer();
    const { output: kafka } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'one', delivered));
    await flush();
    expect(producer.sends).toHaveLength(1);
    expect(delivered).toEqual([]);
    producer.sends[0]?.settle();
    await flush();
    expect(delivered).toEqual(['one']);
  });

  it('makes callers wait when the buffer is full (backpressure) and admits them in order', async () => {
    const producer = new ControlledProducer();
    const first = frame('a', 'first', []);
    const { output: kafka } = output(producer, { buffer_max_bytes: first.frame.value.length });
    await kafka.start();
    await kafka.consumeFrame(first);
    const order: string[] = [];
    const second = kafka.consumeFrame(frame('a', 'second', [])).then(() => order.push('second'));
    const third = kafka.consumeFrame(frame('a', 'third', [])).then(() => order.push('third'));
    await flush();
    expect(order).toEqual([]);
    expect(kafka.buffered).toBe(first.frame.value.length);
    producer.sends[0]?.settle();
    await second;
    await flush();
    expect(order).toEqual(['second']);
    producer.sends[1]?.settle();
    await third;
    expect(order).toEqual(['second', 'third']);
  });

  it('retries retriable failures and delivers once', async () => {
    const producer = new ControlledProducer();
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'one', delivered));
    await flush();
    producer.sends[0]?.settle(new TributaryError('KAFKA_UNAVAILABLE', 'broker down', { retriable: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(producer.sends).toHaveLength(2);
    producer.sends[1]?.settle();
    await flush();
    expect(delivered).toEqual(['one']);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_unavailable' })).toBe(1);
  });

  it('counts and releases frames Kafka rejects for good', async () => {
    const producer = new ControlledProducer();
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'too big', delivered));
    await flush();
    producer.sends[0]?.settle(new TributaryError('KAFKA_REJECTED', 'MESSAGE_TOO_LARGE'));
    await flush();
    expect(producer.sends).toHaveLength(1);
    expect(delivered).toEqual(['too big']);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'kafka_rejected' })).toBe(1);
  });

  it('drains on stop', async () => {
    const producer = new ControlledProducer();
    const { output: kafka } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'last', delivered));
    const stopped = kafka.stop();
    await flush();
    producer.sends[0]?.settle();
    await stopped;
    expect(delivered).toEqual(['last']);
    await expect(kafka.consumeFrame(frame('a', 'late', []))).rejects.toThrow(/stopped/);
  });
});
