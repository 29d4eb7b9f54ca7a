import type { IHeaders, KafkaMessage } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverBatch, type EachBatchLike, type PartitionBatch } from './consumer.js';

const HEARTBEAT_MS = 1_000;

function message(offset: string, value: string, headers: IHeaders = {}): KafkaMessage {
  return { offset, key: Buffer.from('k'), value: Buffer.from(value), headers, timestamp: '0', attributes: 0 };
}

/** kafkajs' eachBatch payload as far as deliverBatch uses it, recording what it is asked to do. */
function fakePayload(options: { heartbeat?: () => Promise<void> } = {}) {
  const calls: string[] = [];
  let running = true;
  let stale = false;
  const payload: EachBatchLike = {
    batch: { topic: 't', partition: 3, highWatermark: '12', messages: [message('7', 'a', { h: 'v' }), message('8', 'b')] },
    resolveOffset: (offset) => void calls.push(`resolve ${offset}`),
    commitOffsetsIfNecessary: () => {
      calls.push('commit');
      return Promise.resolve();
    },
    heartbeat: () => {
      calls.push('heartbeat');
      return options.heartbeat?.() ?? Promise.resolve();
    },
    isRunning: () => running,
    isStale: () => stale,
  };
  return {
    payload,
    calls,
    heartbeats: () => calls.filter((call) => call === 'heartbeat').length,
    stop: () => (running = false),
    revoke: () => (stale = true),
  };
}

/** A handler that stays inside its batch until `release` is called. */
function blockingHandler() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let seen: PartitionBatch | undefined;
  const handler = async (batch: PartitionBatch) => {
    seen = batch;
    await released;
  };
  return { handler, release, batch: () => seen };
}

describe('deliverBatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands the batch over as a PartitionBatch: messages, flattened headers, lag after the last message', async () => {
    const { payload } = fakePayload();
    let seen: PartitionBatch | undefined;
    await deliverBatch(
      payload,
      (batch) => {
        seen = batch;
        return Promise.resolve();
      },
      HEARTBEAT_MS,
    );
    expect(seen?.topic).toBe('t');
    expect(seen?.partition).toBe(3);
    // High watermark 12, last offset 8: offsets 9, 10 and 11 are still to come.
    expect(seen?.lagMessages).toBe(3);
    expect(seen?.messages.map((consumed) => [consumed.offset, consumed.value?.toString()])).toEqual([
      ['7', 'a'],
      ['8', 'b'],
    ]);
    expect(seen?.messages[0]?.headers).toEqual({ h: Buffer.from('v') });
  });

  it('heartbeats every interval while the handler runs, and not after it returned', async () => {
    const { payload, heartbeats } = fakePayload();
    const { handler, release } = blockingHandler();
    const delivered = deliverBatch(payload, handler, HEARTBEAT_MS);

    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS - 1);
    expect(heartbeats()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(heartbeats()).toBe(1);
    await vi.advanceTimersByTimeAsync(4 * HEARTBEAT_MS);
    expect(heartbeats()).toBe(5);

    release();
    await delivered;
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * HEARTBEAT_MS);
    expect(heartbeats()).toBe(5);
  });

  it('stops heartbeating when the handler fails, and passes the failure on', async () => {
    const { payload, heartbeats } = fakePayload();
    const failure = new Error('output refused');
    const delivered = deliverBatch(
      payload,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2.5 * HEARTBEAT_MS));
        throw failure;
      },
      HEARTBEAT_MS,
    );
    const outcome = expect(delivered).rejects.toBe(failure);
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    await outcome;
    expect(heartbeats()).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores a failing keep-alive heartbeat (a rebalance): the handler carries on and the batch completes', async () => {
    const rebalancing = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    const { payload, heartbeats } = fakePayload({ heartbeat: () => Promise.reject(rebalancing) });
    const { handler, release } = blockingHandler();
    const delivered = deliverBatch(payload, handler, HEARTBEAT_MS);
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    expect(heartbeats()).toBe(3);
    release();
    await expect(delivered).resolves.toBeUndefined();
  });

  it('markProcessed resolves the offset, commits if due, then heartbeats and waits for it', async () => {
    const { payload, calls } = fakePayload();
    await deliverBatch(payload, (batch) => batch.markProcessed('7'), HEARTBEAT_MS);
    expect(calls).toEqual(['resolve 7', 'commit', 'heartbeat']);
  });

  it('markProcessed rejects when the heartbeat reports a rebalance, after the offset was resolved and committed', async () => {
    const rebalancing = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    const { payload, calls } = fakePayload({ heartbeat: () => Promise.reject(rebalancing) });
    await expect(deliverBatch(payload, (batch) => batch.markProcessed('8'), HEARTBEAT_MS)).rejects.toBe(rebalancing);
    expect(calls).toEqual(['resolve 8', 'commit', 'heartbeat']);
  });

  it('shouldContinue turns false when the consumer stops or the partition is revoked', async () => {
    for (const end of ['stop', 'revoke'] as const) {
      const fake = fakePayload();
      const { handler, release, batch } = blockingHandler();
      const delivered = deliverBatch(fake.payload, handler, HEARTBEAT_MS);
      await vi.advanceTimersByTimeAsync(0);
      expect(batch()?.shouldContinue()).toBe(true);
      fake[end]();
      expect(batch()?.shouldContinue()).toBe(false);
      release();
      await delivered;
    }
  });
});
