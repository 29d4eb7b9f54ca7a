import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeEvents } from '../../../shared/frame/frame-codec.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import { FakeProducer } from '../../../shared/test-support/fake-producer.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { metricsOutputSchema } from './config.js';
import { SpooledKafkaOutput } from './spooled-kafka-output.js';

/** The event numbers Kafka acknowledged, in order. */
const accepted = (producer: FakeProducer): string[] =>
  producer.acknowledged.flatMap((message) =>
    (decodeFrame(message.value as Buffer, message.headers ?? {}).events as Array<{ n: number }>).map((event) => String(event.n)),
  );

/** The spool sends on its own timer: outcomes are awaited for up to 4 s. */
const until = (what: string, condition: () => boolean): Promise<boolean> => waitFor(what, condition, 4_000);

describe('SpooledKafkaOutput', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function output(producer: MessageProducer, spool: Record<string, unknown> = {}) {
    const { families, metrics } = testComponentMetrics();
    const config = metricsOutputSchema.parse({ retry: { initial_backoff: 1, max_backoff: 5 }, drain_timeout: 200, spool });
    return {
      families,
      output: new SpooledKafkaOutput(
        config,
        join(dir ?? '', 'spool'),
        producer,
        { ensureTopics: () => Promise.resolve([]), maxMessageBytes: () => Promise.resolve(undefined) },
        metrics,
        silentLogger(),
      ),
    };
  }

  const frame = (n: number) => ({ key: 'target', frame: encodeEvents('raw.metric.v1', [{ n }]), onDelivered: () => {} });

  it('accepts frames while Kafka is down, sends them in order when it returns, and resumes after a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spooled-output-'));
    const producer = new FakeProducer();
    producer.down = true;
    const first = output(producer);
    await first.output.start();
    for (let n = 1; n <= 5; n++) await first.output.consumeFrame(frame(n));
    await first.output.stop();
    expect(accepted(producer)).toEqual([]);

    const second = output(producer);
    await second.output.start();
    for (let n = 6; n <= 8; n++) await second.output.consumeFrame(frame(n));
    producer.down = false;
    await until('accepted.length === 8', () => accepted(producer).length === 8);
    expect(accepted(producer)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    await second.output.stop();
    expect(await sampleValue(second.families, 'tributary_component_sent_events_total')).toBe(8);

    // Acknowledged frames are not sent again by the next start.
    const third = output(producer);
    await third.output.start();
    await third.output.consumeFrame(frame(9));
    await until('accepted.length === 9', () => accepted(producer).length === 9);
    await third.output.stop();
    expect(accepted(producer)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('drops the oldest frames past the spool cap and counts exactly the events dropped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spooled-output-'));
    const producer = new FakeProducer();
    producer.down = true;
    const { output: spooled, families } = output(producer, { max_bytes: '8KiB', segment_bytes: '1KiB' });
    await spooled.start();
    const frames = 200;
    for (let n = 1; n <= frames; n++) await spooled.consumeFrame(frame(n));
    producer.down = false;
    await until('accepted.length > 0', () => accepted(producer).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await spooled.stop();
    const dropped = await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'spool_full' });
    expect(dropped).toBeGreaterThan(0);
    expect(accepted(producer).length + dropped).toBe(frames);
    // What survived is the newest frames, in order.
    expect(accepted(producer)).toEqual(Array.from({ length: accepted(producer).length }, (_, index) => String(frames - accepted(producer).length + index + 1)));
  });
});
