import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeFrame } from '../../shared/frame/frame-codec.js';
import type { EventBatch } from '../../shared/pipeline/types.js';
import { testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { Framer, type OutgoingFrame } from './framer.js';

function batch(key: string, bodies: string[], delivered: string[]): EventBatch {
  return {
    key,
    schema: 'raw.log.v1',
    ndjson: bodies.map((body) => `${JSON.stringify({ body })}\n`).join(''),
    eventCount: bodies.length,
    onDelivered: () => delivered.push(`${key}:${bodies.join(',')}`),
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
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 200 }, downstream, testComponentMetrics('framer').metrics);
    await framer.consume(batch('a', ['x'], []));
    expect(frames).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(199);
    expect(frames).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(frames).toHaveLength(1);
  });

  it('keeps keys apart and batches in order within a key', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 200 }, downstream, testComponentMetrics('framer').metrics);
    await framer.consume(batch('a', ['1', '2'], []));
    await framer.consume(batch('b', ['x'], []));
    await framer.consume(batch('a', ['3'], []));
    await framer.flushAll();
    const byKey = Object.fromEntries(frames.map((frame) => [frame.key, decodeFrame(frame.frame.value, frame.frame.headers).events]));
    expect(byKey).toEqual({ a: [{ body: '1' }, { body: '2' }, { body: '3' }], b: [{ body: 'x' }] });
  });

  it('cuts frames by event count without splitting batches', async () => {
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 3, linger: 10_000 }, downstream, testComponentMetrics('framer').metrics);
    await framer.consume(batch('a', ['1', '2'], []));
    await framer.consume(batch('a', ['3', '4'], []));
    await framer.flushAll();
    expect(frames.map((frame) => frame.frame.eventCount)).toEqual([2, 2]);
  });

  it('cuts frames by bytes', async () => {
    const framer = new Framer({ max_bytes: 40, max_events: 1000, linger: 10_000 }, downstream, testComponentMetrics('framer').metrics);
    for (let index = 0; index < 6; index++) await framer.consume(batch('a', [`line-${index}`], []));
    await framer.flushAll();
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.every((frame) => frame.frame.uncompressedBytes <= 40)).toBe(true);
    expect(frames.reduce((sum, frame) => sum + frame.frame.eventCount, 0)).toBe(6);
  });

  it('reports delivery of every batch in a frame, in order', async () => {
    const delivered: string[] = [];
    const framer = new Framer({ max_bytes: 1 << 20, max_events: 100, linger: 10_000 }, downstream, testComponentMetrics('framer').metrics);
    await framer.consume(batch('a', ['1'], delivered));
    await framer.consume(batch('a', ['2', '3'], delivered));
    await framer.flushAll();
    expect(delivered).toEqual([]);
    frames[0]?.onDelivered();
    expect(delivered).toEqual(['a:1', 'a:2,3']);
  });
});
