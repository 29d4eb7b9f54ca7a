import { TributaryError, errorMessage } from '../errors.js';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';

export interface RetryOptions extends BackoffPolicy {
  /** Stop retrying (and rethrow the last error) once this aborts. */
  signal?: AbortSignal;
  isRetriable(error: unknown): boolean;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

/**
 * Runs `operation` until it succeeds, a permanent error occurs, or the signal
 * aborts. Shared by every output so retry behaviour is one thing, not N.
 */
export async function retry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!options.isRetriable(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt + 1, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) {
        throw new TributaryError('SHUTDOWN', `gave up retrying at shutdown: ${errorMessage(error)}`, { cause: error, retriable: true });
      }
    }
  }
}
