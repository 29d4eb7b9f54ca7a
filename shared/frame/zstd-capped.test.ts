import { compress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { expectLinearTime } from '../test-support/boundary-contract.js';
import { MAX_ZSTD_FRAMES, decompressCapped, decompressCappedAsync } from './zstd-capped.js';

/** The smallest useful zstd frame (12 bytes for 3 bytes of content): the unit of the frame-count bomb. */
const TINY_FRAME = compress(Buffer.from('abc'));

function tinyFrames(count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => TINY_FRAME));
}

function errorOf(run: () => unknown): TributaryError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    return error as TributaryError;
  }
  throw new Error('expected an error');
}

describe('capped zstd decompression', () => {
  it('13.7: a 1 MiB message of 87,000 tiny zstd frames is refused quickly as FRAME_INVALID', () => {
    // Before the fix: 9.4-16 s of blocking CPU and 21.7 GiB of allocations (a 256 KiB buffer per frame).
    const bomb = tinyFrames(Math.floor((1024 * 1024) / TINY_FRAME.length));
    const started = performance.now();
    const error = errorOf(() => decompressCapped(bomb, 64 * 1024 * 1024));
    const elapsedMs = performance.now() - started;
    expect(error.code).toBe('FRAME_INVALID');
    expect(error.message).toBe(`frame holds more than ${MAX_ZSTD_FRAMES} concatenated zstd frames`);
    // Measured ~5-20 ms; the bound tolerates a loaded two-core machine.
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('13.7: up to the frame cap, many tiny frames decode completely in time linear in their count', () => {
    expect(decompressCapped(tinyFrames(MAX_ZSTD_FRAMES), 1024 * 1024).toString()).toBe('abc'.repeat(MAX_ZSTD_FRAMES));
    // The frame cap bounds one message, so each run decodes it several times to rise above timer noise.
    const decodeRepeatedly = (message: Buffer): void => {
      for (let repeat = 0; repeat < 32; repeat++) decompressCapped(message, 1024 * 1024);
    };
    expectLinearTime(tinyFrames, decodeRepeatedly, { maxBaseSize: MAX_ZSTD_FRAMES / 4, minBaseMs: 20, repetitions: 5 });
  });

  it('13.7: native contexts are reused, so RSS stays flat over many decodes', () => {
    // Before the fix every decode created a native context the GC never saw: 100k decodes grew RSS by 1.4-1.9 GB.
    const small = compress(Buffer.from('{"a":1}\n'));
    for (let warmup = 0; warmup < 1000; warmup++) decompressCapped(small, 1024);
    const before = process.memoryUsage().rss;
    for (let decode = 0; decode < 20_000; decode++) decompressCapped(small, 1024);
    const grownMiB = (process.memoryUsage().rss - before) / (1024 * 1024);
    // Measured ~0-3 MiB; a context per decode grew ~290 MiB over 20k decodes.
    expect(grownMiB).toBeLessThan(64);
  });

  it('13.7: a failed decode leaves the reused context clean for the next one', () => {
    const good = compress(Buffer.from('payload'));
    expect(errorOf(() => decompressCapped(good.subarray(0, good.length - 2), 1024)).message).toBe('zstd data is truncated');
    expect(errorOf(() => decompressCapped(compress(Buffer.alloc(4096)), 100)).code).toBe('FRAME_TOO_LARGE');
    expect(decompressCapped(good, 1024).toString()).toBe('payload');
  });

  it('returns exactly the produced bytes, whatever the frame declares', () => {
    const body = Buffer.alloc(300_000, 0x62);
    const output = decompressCapped(Buffer.concat([compress(body), compress(body)]), 1024 * 1024);
    expect(output.length).toBe(600_000);
    expect(output.buffer.byteLength).toBeLessThan(600_000 + 8192);
  });

  it('the asynchronous decode yields to the event loop between slices and gives the same bytes', async () => {
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, index) => `line ${index}\n`).join(''));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      const output = await decompressCappedAsync(compress(body), 64 * 1024 * 1024, 0);
      expect(output.equals(body)).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
