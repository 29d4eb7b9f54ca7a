import { TributaryError, errorMessage } from '../errors.js';
import { backoffDelay, sleep as abortableSleep } from './backoff.js';

/**
 * How long to wait between tries and how many to make. One meaning of
 * `maxAttempts` everywhere (the `retry.max_attempts` options map to it): the
 * total number of tries, the first one included; unset retries until the
 * signal aborts (or `classify` says the failure is permanent).
 */
export interface RetryPolicy {
  /** Ceiling of the first delay; the ceiling doubles with every retry. */
  readonly initialMs: number;
  /** The ceiling never grows past this. */
  readonly maxMs: number;
  /** Total tries, the first included (1 = no retry); unset = until aborted. */
  readonly maxAttempts?: number | undefined;
}

/** Whether a failure may heal by trying again ('retry') or will not ('fail': rethrown at once). */
export type RetryDecision = 'retry' | 'fail';

export interface RetryOptions {
  policy: RetryPolicy;
  /** Ends the waiting between tries: the promise then rejects with `abortError`. A try in flight is not interrupted here; give the operation the signal too. */
  signal?: AbortSignal | undefined;
  classify(error: unknown): RetryDecision;
  /** Called before each wait: `attempt` is the try that just failed (1 for the first), `delayMs` the wait that follows. */
  onRetry?(attempt: number, delayMs: number, error: unknown): void;
  /**
   * The wait actually used, given the jittered backoff: for a server's
   * Retry-After, which some callers honour instead of the backoff and others
   * as a floor under it. Default: the backoff.
   */
  delayMs?(backoffMs: number, error: unknown): number;
  /** What to reject with when the signal aborts between tries; default a retriable SHUTDOWN error caused by the last failure. */
  abortError?(lastError: unknown): unknown;
}

/** Resolves after `ms`, or early (without error) when the signal aborts; tests inject one that records instead of waiting. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Runs `operation` until it succeeds, `classify` calls a failure permanent,
 * `policy.maxAttempts` tries failed (the last failure is rethrown as it is), or
 * the signal aborts between tries. Waits are exponential backoff with full
 * jitter (see backoff.ts): the n-th retry waits a uniformly random time below
 * min(maxMs, initialMs * 2^(n-1)). `operation` is told which try it is (1 for
 * the first). The one retry loop of the code base: outputs, notifiers and
 * start-up checks differ only in their policy, classification and logging.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
  random: () => number = Math.random,
  sleep: Sleep = abortableSleep,
): Promise<T> {
  const { policy, signal } = options;
  const maxAttempts = policy.maxAttempts;
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new TributaryError('INTERNAL', `retry: maxAttempts must be an integer of at least 1, got ${maxAttempts}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.classify(error) === 'fail') throw error;
      if (maxAttempts !== undefined && attempt >= maxAttempts) throw error;
      if (isAborted(signal)) throw aborted(options, error);
      const backoffMs = backoffDelay(attempt - 1, policy, random);
      const delayMs = options.delayMs === undefined ? backoffMs : options.delayMs(backoffMs, error);
      options.onRetry?.(attempt, delayMs, error);
      await sleep(delayMs, signal);
      if (isAborted(signal)) throw aborted(options, error);
    }
  }
}

/** Read through a call, so the type checker does not keep a narrowing of `signal.aborted` across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function aborted(options: RetryOptions, lastError: unknown): unknown {
  if (options.abortError !== undefined) return options.abortError(lastError);
  return new TributaryError('SHUTDOWN', `gave up retrying at shutdown: ${errorMessage(lastError)}`, { cause: lastError, retriable: true });
}
