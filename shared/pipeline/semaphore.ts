import { TributaryError } from '../errors.js';

function shutdownError(): TributaryError {
  return new TributaryError('SHUTDOWN', 'aborted at shutdown', { retriable: true });
}

/**
 * The one counting semaphore: `capacity` slots, waiters served first come, first served, and a released slot
 * handed straight to the next waiter, so a releaser cannot take it back ahead of them (with more work than
 * slots, every waiter still advances). Used for the file source's `max_open_files` descriptors and for the
 * HTTP sinks' `max_concurrent_requests`. Waiting ends early, with a retriable SHUTDOWN, when the waiter's
 * signal aborts.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  get inUse(): number {
    return this.capacity - this.available;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(shutdownError());
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const position = this.waiters.indexOf(grant);
        if (position >= 0) this.waiters.splice(position, 1);
        reject(shutdownError());
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }

  /** `work` in a slot, the slot released however it ends. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}
