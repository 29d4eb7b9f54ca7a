import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from './retry-after.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('reads delay-seconds, whole or fractional, and a header repeated (the first counts)', () => {
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('2', now)).toBe(2_000);
    expect(retryAfterMs(['3'], now)).toBe(3_000);
    expect(retryAfterMs(['1.5', '9'], now)).toBe(1_500);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now; a date in the past means no wait', () => {
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 12:00:07 GMT', now)).toBe(7_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('caps what it asks for at MAX_RETRY_AFTER_MS', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(300_000);
    expect(retryAfterMs('86400', now)).toBe(300_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 12:00:00 GMT', now)).toBe(300_000);
  });

  it('is undefined when absent or unreadable', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs([], now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs('  ', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('1e3', now)).toBeUndefined();
  });

  it('uses the wall clock when no now is given', () => {
    expect(retryAfterMs('1')).toBe(1_000);
  });
});
