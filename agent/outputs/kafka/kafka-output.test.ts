import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import { randomBytes } from 'node:crypto';
import { decodeFrame, encodeEvents } from '../../../shared/frame/frame-codec.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { TopicAdmin } from '../../../shared/kafka/topics.js';
import type { DeliveryOutcome } from '../../../shared/pipeline/types.js';
import { FakeProducer, tooLarge } from '../../../shared/test-support/fake-producer.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import type { OutgoingFrame } from '../../framer/framer.js';
import { kafkaOutputSchema } from './config.js';
import { KafkaOutput } from './kafka-output.js';

function frame(key: string, body: string, delivered: string[]): OutgoingFrame {
  return {
    key,
    frame: encodeEvents('raw.log.v1', [{ body }]),
    onDelivered: (outcome) => delivered.push(outcome.status === 'delivered' ? body : `${body} ${outcome.status}`),
  };
}

/** A frame of `bodies`, its outcome recorded under `name`. */
function framesOf(key: string, name: string, bodies: string[], outcomes: Map<string, DeliveryOutcome>): OutgoingFrame {
  return {
    key,
    frame: encodeEvents(
      'raw.log.v1',
      bodies.map((body) => ({ body })),
    ),
    onDelivered: (outcome) => outcomes.set(name, outcome),
  };
}

/** Incompressible text, so frame sizes are predictable. */
const noise = (bytes: number) =>
  randomBytes(Math.ceil(bytes / 2))
    .toString('hex')
    .slice(0, bytes);

/** Every event body the producer acknowledged, in order. */
const acknowledgedBodies = (producer: FakeProducer) =>
  producer.acknowledged.flatMap((message) =>
    decodeFrame(message.value as Buffer, message.headers as Record<string, string>).events.map((event) => (event as { body: string }).body),
  );

const flush = () => new Promise((resolve) => setImmediate(resolve));

function topicAdmin(maxMessageBytes?: number): TopicAdmin {
  return { ensureTopics: () => Promise.resolve([]), maxMessageBytes: () => Promise.resolve(maxMessageBytes) };
}

function output(producer: MessageProducer, overrides: Record<string, unknown> = {}, admin: TopicAdmin = topicAdmin()) {
  const { families, metrics } = testComponentMetrics();
  const config = kafkaOutputSchema.parse({ retry: { initial_backoff: 1, max_backoff: 1 }, drain_timeout: 1000, ...overrides });
  return { families, output: new KafkaOutput(config, producer, admin, metrics, silentLogger()) };
}

describe('KafkaOutput', () => {
  it('reports delivery only after the broker acknowledged', async () => {
    const producer = new FakeProducer({ manual: true });
    const { output: kafka } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'one', delivered));
    await flush();
    expect(producer.held).toHaveLength(1);
    expect(delivered).toEqual([]);
    producer.held[0]?.settle();
    await waitFor('delivered.length > 0', () => delivered.length > 0);
    expect(delivered).toEqual(['one']);
  });

  it('makes callers wait when the buffer is full (backpressure) and admits them in order', async () => {
    const producer = new FakeProducer({ manual: true });
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
    producer.held[0]?.settle();
    await second;
    await flush();
    expect(order).toEqual(['second']);
    producer.held[1]?.settle();
    await third;
    expect(order).toEqual(['second', 'third']);
  });

  it('retries retriable failures and delivers once', async () => {
    const producer = new FakeProducer({ manual: true });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'one', delivered));
    await flush();
    producer.held[0]?.settle(new TributaryError('KAFKA_UNAVAILABLE', 'broker down', { retriable: true }));
    await waitFor('the retried send', () => producer.held.length === 2);
    producer.held[1]?.settle();
    await flush();
    expect(delivered).toEqual(['one']);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_unavailable' })).toBe(1);
  });

  it('13.4: a frame Kafka refuses for good is counted and reported failed, never delivered', async () => {
    const producer = new FakeProducer({ manual: true });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'refused', delivered));
    await flush();
    producer.held[0]?.settle(new TributaryError('KAFKA_REJECTED', 'INVALID_RECORD'));
    await waitFor('delivered.length > 0', () => delivered.length > 0);
    expect(producer.held).toHaveLength(1);
    expect(delivered).toEqual(['refused failed']);
    expect(kafka.buffered).toBe(0);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'kafka_rejected' })).toBe(1);
  });

  it('13.4: requests are cut to the topic limit, so no record batch can exceed it', async () => {
    const producer = new FakeProducer();
    const { output: kafka } = output(producer, {}, topicAdmin(8 * 1024));
    await kafka.start();
    const outcomes = new Map<string, DeliveryOutcome>();
    // 20 frames of ~1.5 KiB on 4 keys: 30 KiB, one request before the fix.
    for (let index = 0; index < 20; index++) await kafka.consumeFrame(framesOf(`key-${index % 4}`, `f${index}`, [noise(1500)], outcomes));
    await waitFor('outcomes.size === 20', () => outcomes.size === 20);
    expect([...outcomes.values()].every((outcome) => outcome.status === 'delivered')).toBe(true);
    const requestBytes = producer.requests.map(({ messages }) => messages.reduce((sum, message) => sum + (message.value as Buffer).length, 0));
    expect(Math.max(...requestBytes)).toBeLessThanOrEqual(8 * 1024 - 1024);
    expect(producer.acknowledged).toHaveLength(20);
  });

  it('13.4: MESSAGE_TOO_LARGE splits the request and sends every frame once, in order, dropping nothing', async () => {
    // The broker's limit is lower than the output was told (it changed): any request of more than one frame is refused.
    const producer = new FakeProducer({ refuse: ({ messages }) => (messages.length > 1 ? tooLarge() : undefined) });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const outcomes = new Map<string, DeliveryOutcome>();
    const bodies = Array.from({ length: 7 }, (_, index) => `line-${index}`);
    // Held back by a full buffer? No: all are admitted before the first send resolves, so they share requests.
    await Promise.all(bodies.map((body) => kafka.consumeFrame(framesOf('a', body, [body], outcomes))));
    await waitFor('outcomes.size === 7', () => outcomes.size === 7);
    expect([...outcomes.values()].every((outcome) => outcome.status === 'delivered')).toBe(true);
    expect(acknowledgedBodies(producer)).toEqual(bodies);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total')).toBe(0);
  });

  it('13.4: a frame too large on its own is re-framed into smaller frames that carry every event once', async () => {
    const producer = new FakeProducer({
      refuse: ({ messages }) => (messages.some((message) => (message.value as Buffer).length > 3000) ? tooLarge() : undefined),
    });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const outcomes = new Map<string, DeliveryOutcome>();
    const bodies = Array.from({ length: 10 }, () => noise(1000));
    await kafka.consumeFrame(framesOf('a', 'big', bodies, outcomes));
    await waitFor('outcomes.size === 1', () => outcomes.size === 1);
    expect(outcomes.get('big')).toEqual({ status: 'delivered' });
    expect(acknowledgedBodies(producer)).toEqual(bodies);
    expect(producer.acknowledged.every((message) => message.key === 'a')).toBe(true);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total')).toBe(0);
  });

  it('13.4: an event too large for the topic even alone is counted and fails its frame; the rest is sent', async () => {
    const producer = new FakeProducer({
      refuse: ({ messages }) => (messages.some((message) => (message.value as Buffer).length > 3000) ? tooLarge() : undefined),
    });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const outcomes = new Map<string, DeliveryOutcome>();
    const small = ['before', 'after'];
    await kafka.consumeFrame(framesOf('a', 'mixed', [small[0] as string, noise(10_000), small[1] as string], outcomes));
    await kafka.consumeFrame(framesOf('a', 'next', ['next'], outcomes));
    await waitFor('outcomes.size === 2', () => outcomes.size === 2);
    expect(outcomes.get('mixed')).toEqual({ status: 'failed', reason: 'frame_too_large' });
    expect(outcomes.get('next')).toEqual({ status: 'delivered' });
    expect(acknowledgedBodies(producer)).toEqual([...small, 'next']);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'frame_too_large' })).toBe(1);
  });

  it('13.4: with several frames in a refused request, exactly the refused frame is counted as dropped', async () => {
    const refusedKey = 'poison';
    const producer = new FakeProducer({
      refuse: ({ messages }) => (messages.some((message) => message.key === refusedKey) ? new TributaryError('KAFKA_REJECTED', 'INVALID_RECORD') : undefined),
    });
    const { output: kafka, families } = output(producer);
    await kafka.start();
    const outcomes = new Map<string, DeliveryOutcome>();
    const five = (name: string) => Array.from({ length: 5 }, (_, index) => `${name}-${index}`);
    await Promise.all(['p0', 'p1', refusedKey, 'p3'].map((key) => kafka.consumeFrame(framesOf(key, key, five(key), outcomes))));
    await waitFor('outcomes.size === 4', () => outcomes.size === 4);
    expect(outcomes.get(refusedKey)).toEqual({ status: 'failed', reason: 'kafka_rejected' });
    expect(['p0', 'p1', 'p3'].map((key) => outcomes.get(key)?.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'kafka_rejected' })).toBe(5);
  });

  it('13.24: starts while Kafka is unreachable, is not ready, and sends once Kafka is back', async () => {
    let reachable = false;
    let attempts = 0;
    const admin: TopicAdmin = {
      ensureTopics: () => {
        attempts++;
        return reachable ? Promise.resolve([]) : Promise.reject(new TributaryError('KAFKA_UNAVAILABLE', 'ECONNREFUSED', { retriable: true }));
      },
      maxMessageBytes: () => Promise.resolve(undefined),
    };
    const producer = new FakeProducer();
    const { output: kafka, families } = output(producer, {}, admin);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'waits', delivered));
    await waitFor('attempts >= 3', () => attempts >= 3);
    expect(kafka.ready).toBe(false);
    expect(producer.requests).toHaveLength(0);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'kafka_unavailable' })).toBeGreaterThanOrEqual(3);
    reachable = true;
    await waitFor('delivered.length > 0', () => delivered.length > 0);
    expect(kafka.ready).toBe(true);
    expect(delivered).toEqual(['waits']);
  });

  it('drains on stop', async () => {
    const producer = new FakeProducer({ manual: true });
    const { output: kafka } = output(producer);
    await kafka.start();
    const delivered: string[] = [];
    await kafka.consumeFrame(frame('a', 'last', delivered));
    const stopped = kafka.stop();
    await flush();
    producer.held[0]?.settle();
    await stopped;
    expect(delivered).toEqual(['last']);
    await expect(kafka.consumeFrame(frame('a', 'late', []))).rejects.toThrow(/stopped/);
  });
});
