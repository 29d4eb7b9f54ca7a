import { decompress } from 'zstd-napi';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeFrame } from '../../shared/frame/frame-codec.js';
import type { EventBatch } from '../../shared/pipeline/types.js';
import { sampleValue, testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { Framer, type OutgoingFrame } from './framer.js';

function rawBatch(key: string, ndjson: string, eventCount: number): EventBatch {
  return { key, schema: 'raw.log.v1', ndjson, eventCount, onDelivered: () => undefined };
}

function batch(key: string, bodies: string[], delivered: string[]): EventBatch {
  return {
    key,
    schema: 'raw.log.v1',
    ndjson: bodies.map((body) => `${JSON.stringify({ body })}\n`).join(''),
    eventCount: bodies.length,
    onDelivered: (outcome) => delivered.push(`${key}:${bodies.join(',')}${outcome.status === 'delivered' ? '' : ` ${outcome.status} ${outcome.reason}`}`),
  };
}

describe('Framer', () => {
  let frames: OutgoingFrame[];
  const downstream = {
    consumeFrame: (frame: OutgoingFrame) => {
      frames.push(frame);
      return Promise.resolve();
    },
  };

  beforeEach(() => {
    frames = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('flushes a partial frame after the linger time', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 200 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['x'], []));
    expect(frames).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(199);
    expect(frames).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(frames).toHaveLength(1);
  });

  it('keeps keys apart and batches in order within a key', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 200 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['1', '2'], []));
    await framer.consume(batch('b', ['x'], []));
    await framer.consume(batch('a', ['3'], []));
    await framer.flushAll();
    const byKey = Object.fromEntries(frames.map((frame) => [frame.key, decodeFrame(frame.frame.value, frame.frame.headers).events]));
    expect(byKey).toEqual({ a: [{ body: '1' }, { body: '2' }, { body: '3' }], b: [{ body: 'x' }] });
  });

  it('cuts frames by event count without splitting batches', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 3, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['1', '2'], []));
    await framer.consume(batch('a', ['3', '4'], []));
    await framer.flushAll();
    expect(frames.map((frame) => frame.frame.eventCount)).toEqual([2, 2]);
  });

  it('cuts frames by bytes', async () => {
    const framer = new Framer({ max_bytes: 40, max_events: 1000, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    for (let index = 0; index < 6; index++) await framer.consume(batch('a', [`line-${index}`], []));
    await framer.flushAll();
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.every((frame) => frame.frame.uncompressedBytes <= 40)).toBe(true);
    expect(frames.reduce((sum, frame) => sum + frame.frame.eventCount, 0)).toBe(6);
  });

  it('reports delivery of every batch in a frame, in order', async () => {
    const delivered: string[] = [];
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['1'], delivered));
    await framer.consume(batch('a', ['2', '3'], delivered));
    await framer.flushAll();
    expect(delivered).toEqual([]);
    frames[0]?.onDelivered({ status: 'delivered' });
    expect(delivered).toEqual(['a:1', 'a:2,3']);
  });

  it('13.4: a failed frame reports failed to every batch inside and counts none of them as sent', async () => {
    const delivered: string[] = [];
    const { metrics, families } = testComponentMetrics('processor');
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 10_000 }, downstream, metrics);
    await framer.consume(batch('a', ['1'], delivered));
    await framer.consume(batch('a', ['2', '3'], delivered));
    await framer.flushAll();
    frames[0]?.onDelivered({ status: 'failed', reason: 'frame_too_large' });
    expect(delivered).toEqual(['a:1 failed frame_too_large', 'a:2,3 failed frame_too_large']);
    expect(await sampleValue(families, 'tributary_component_sent_events_total', {})).toBe(0);
  });

  it('measures frames in UTF-8 bytes, not characters', async () => {
    const framer = new Framer({ max_bytes: 40, max_events: 1000, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    // 17 characters but 22 bytes each: two would fit in 40 characters, not in 40 bytes.
    for (let index = 0; index < 4; index++) await framer.consume(batch('a', ['ééééé'], []));
    await framer.flushAll();
    expect(frames.map((frame) => frame.frame.uncompressedBytes)).toEqual([22, 22, 22, 22]);
  });

  it('sends a batch larger than max_bytes alone in its frame', async () => {
    const framer = new Framer({ max_bytes: 30, max_events: 1000, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['1'], []));
    await framer.consume(batch('a', ['x'.repeat(100)], []));
    await framer.consume(batch('a', ['2'], []));
    await framer.flushAll();
    const decoded = frames.map((frame) => decodeFrame(frame.frame.value, frame.frame.headers).events);
    expect(decoded).toEqual([[{ body: '1' }], [{ body: 'x'.repeat(100) }], [{ body: '2' }]]);
  });

  it('frames exactly the bytes Buffer.from gives the batches, lone surrogates included', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 1000, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    const texts = ['{"a":"ü✓😀"}\n', '{"b":"\ud800 lone"}\n', '{"c":"\u2028"}\n'];
    for (const text of texts) await framer.consume(rawBatch('a', text, 1));
    await framer.flushAll();
    const [frame] = frames;
    expect(frames).toHaveLength(1);
    expect(decompress(frame?.frame.value as Buffer)).toEqual(Buffer.from(texts.join('')));
  });

  it('keeps every frame intact while it reuses and grows its buffers', async () => {
    const framer = new Framer({ max_bytes: 256 * 1024, max_events: 100_000, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    const sent: string[] = [];
    for (let index = 0; index < 60; index++) {
      const body = `${String(index).padStart(4, '0')}-${'y'.repeat((index * 7919) % 40_000)}`;
      sent.push(body);
      await framer.consume(batch(index % 3 === 0 ? 'a' : 'b', [body], []));
    }
    await framer.flushAll();
    expect(frames.length).toBeGreaterThan(4);
    const received = frames.flatMap((frame) => decodeFrame(frame.frame.value, frame.frame.headers).events.map((event) => (event as { body: string }).body));
    expect(received.sort()).toEqual(sent.sort());
    for (const frame of frames) expect(frame.frame.uncompressedBytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('cuts the frame when the schema changes', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 10_000 }, downstream, testComponentMetrics('processor').metrics);
    await framer.consume(batch('a', ['1'], []));
    await framer.consume({ ...rawBatch('a', '{"metric":1}\n', 1), schema: 'raw.metric.v1' });
    await framer.flushAll();
    expect(frames.map((frame) => frame.frame.headers['tributary.schema'])).toEqual(['raw.log.v1', 'raw.metric.v1']);
  });
});
