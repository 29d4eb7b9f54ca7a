import { describe, expect, it } from 'vitest';
import { OpenFileLimiter } from './open-file-limiter.js';

describe('OpenFileLimiter', () => {
  it('hands out up to its capacity, then serves waiters in order', async () => {
    const limiter = new OpenFileLimiter(2);
    await limiter.acquire();
    await limiter.acquire();
    const order: string[] = [];
    const third = limiter.acquire().then(() => order.push('third'));
    const fourth = limiter.acquire().then(() => order.push('fourth'));
    expect(limiter.hasWaiters).toBe(true);
    limiter.release();
    await third;
    expect(order).toEqual(['third']);
    limiter.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect(limiter.inUse).toBe(2);
  });

  it('does not let a releaser jump the queue', async () => {
    const limiter = new OpenFileLimiter(1);
    await limiter.acquire();
    let waiterGotIt = false;
    const waiter = limiter.acquire().then(() => (waiterGotIt = true));
    limiter.release();
    const again = limiter.acquire();
    await waiter;
    expect(waiterGotIt).toBe(true);
    limiter.release();
    await again;
    expect(limiter.inUse).toBe(1);
  });
});
