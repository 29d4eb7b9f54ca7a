import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('hands out up to its capacity, then serves waiters in order', async () => {
    const slots = new Semaphore(2);
    await slots.acquire();
    await slots.acquire();
    const order: string[] = [];
    const third = slots.acquire().then(() => order.push('third'));
    const fourth = slots.acquire().then(() => order.push('fourth'));
    expect(slots.hasWaiters).toBe(true);
    slots.release();
    await third;
    expect(order).toEqual(['third']);
    slots.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect(slots.inUse).toBe(2);
    expect(slots.hasWaiters).toBe(false);
  });

  it('does not let a releaser jump the queue', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    let waiterGotIt = false;
    const waiter = slots.acquire().then(() => (waiterGotIt = true));
    slots.release();
    const again = slots.acquire();
    await waiter;
    expect(waiterGotIt).toBe(true);
    slots.release();
    await again;
    expect(slots.inUse).toBe(1);
  });

  it('run() never has more than capacity in flight and releases on failure', async () => {
    const slots = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const task = async (index: number): Promise<number> => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      active--;
      if (index % 4 === 0) throw new Error(`task ${index} failed`);
      return index;
    };
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => slots.run(() => task(index))));
    expect(peak).toBe(3);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(5);
    expect(slots.inUse).toBe(0);
  });

  it('a waiter whose signal aborts leaves the queue with a retriable SHUTDOWN and takes no slot', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    const controller = new AbortController();
    const aborted = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort();
    const error: unknown = await aborted.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({ code: 'SHUTDOWN', retriable: true });
    slots.release();
    await next;
    expect(slots.inUse).toBe(1);
    await expect(slots.acquire(controller.signal)).rejects.toMatchObject({ code: 'SHUTDOWN' });
  });
});
