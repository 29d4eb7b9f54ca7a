import { TributaryError } from '../errors.js';

/**
 * A counting semaphore for HTTP requests in flight (bulk or update requests), shared by every write of
 * one sink (partitions are processed concurrently), so the server sees at
 * most `max_concurrent_requests` at once. Waiting ends early when the
 * waiter's signal aborts.
 */
export class RequestLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new TributaryError('SHUTDOWN', 'aborted at shutdown', { retriable: true }));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = (): void => {
        const position = this.waiting.indexOf(grant);
        if (position >= 0) this.waiting.splice(position, 1);
        reject(new TributaryError('SHUTDOWN', 'aborted at shutdown', { retriable: true }));
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}
