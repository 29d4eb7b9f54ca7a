import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { retry, type RetryOptions, type Sleep } from './retry.js';

const transient = (n = 0): TributaryError => new TributaryError('SINK_UNAVAILABLE', `down ${n}`, { retriable: true });
const permanent = new TributaryError('SINK_REJECTED', 'refused');
const retriable = (error: unknown): 'retry' | 'fail' => (error instanceof TributaryError && error.retriable ? 'retry' : 'fail');

/** A sleep that records the delays asked for and returns at once; `onSleep` may act in between (abort, say). */
function recordingSleep(onSleep?: (ms: number) => void): { sleep: Sleep; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      onSleep?.(ms);
      return Promise.resolve();
    },
  };
}

/** An operation that fails `failures` times with `error(n)`, then returns 'ok'; records which try it was told it is. */
function failing(failures: number, error: (n: number) => Error = transient): { operation: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    operation: (attempt) => {
      attempts.push(attempt);
      return attempts.length <= failures ? Promise.reject(error(attempts.length)) : Promise.resolve('ok');
    },
  };
}

const options = (overrides: Partial<RetryOptions> = {}): RetryOptions => ({ policy: { initialMs: 100, maxMs: 1_000 }, classify: retriable, ...overrides });

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const { sleep, delays } = recordingSleep();
    const { operation, attempts } = failing(0);
    await expect(retry(operation, options(), () => 0.5, sleep)).resolves.toBe('ok');
    expect(attempts).toEqual([1]);
    expect(delays).toEqual([]);
  });

  it('backs off exponentially up to maxMs, with full jitter, and tells the operation which try it is', async () => {
    const { sleep, delays } = recordingSleep();
    const { operation, attempts } = failing(6);
    // random() = 1 - ε shows each ceiling (floor of just below it); 0 would show no wait at all.
    await expect(retry(operation, options(), () => 0.999_999, sleep)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('draws each delay uniformly below the ceiling (full jitter)', async () => {
    const { sleep, delays } = recordingSleep();
    const draws = [0, 0.5, 0.25];
    await retry(failing(3).operation, options(), () => draws.shift() ?? 0, sleep);
    expect(delays).toEqual([0, 100, 100]);
  });

  it('reports each retry with the failed try, the delay and the error, before waiting', async () => {
    const events: string[] = [];
    const { sleep } = recordingSleep((ms) => events.push(`sleep ${ms}`));
    await retry(
      failing(2).operation,
      options({ onRetry: (attempt, delayMs, error) => events.push(`retry ${attempt} ${delayMs} ${(error as Error).message}`) }),
      () => 0.5,
      sleep,
    );
    expect(events).toEqual(['retry 1 50 down 1', 'sleep 50', 'retry 2 100 down 2', 'sleep 100']);
  });

  it('rethrows a permanent failure at once, untouched', async () => {
    const { sleep, delays } = recordingSleep();
    const { operation, attempts } = failing(5, () => permanent);
    await expect(retry(operation, options(), () => 0.5, sleep)).rejects.toBe(permanent);
    expect(attempts).toEqual([1]);
    expect(delays).toEqual([]);
  });

  it('classifies every failure: a permanent one after transient ones ends the retrying', async () => {
    const { sleep } = recordingSleep();
    const { operation, attempts } = failing(5, (n) => (n < 3 ? transient(n) : permanent));
    await expect(retry(operation, options(), () => 0.5, sleep)).rejects.toBe(permanent);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('maxAttempts counts every try, the first included, and rethrows the last failure', async () => {
    const { sleep, delays } = recordingSleep();
    const { operation, attempts } = failing(10);
    const outcome = retry(operation, options({ policy: { initialMs: 100, maxMs: 1_000, maxAttempts: 3 } }), () => 0.5, sleep);
    await expect(outcome).rejects.toMatchObject({ message: 'down 3' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toHaveLength(2);
  });

  it('maxAttempts 1 means no retry; success on the last allowed try counts', async () => {
    const { sleep } = recordingSleep();
    await expect(retry(failing(1).operation, options({ policy: { initialMs: 1, maxMs: 1, maxAttempts: 1 } }), () => 0, sleep)).rejects.toMatchObject({
      message: 'down 1',
    });
    await expect(retry(failing(2).operation, options({ policy: { initialMs: 1, maxMs: 1, maxAttempts: 3 } }), () => 0, sleep)).resolves.toBe('ok');
  });

  it('refuses a maxAttempts below 1 or fractional before trying', async () => {
    for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
      const { operation, attempts } = failing(0);
      await expect(retry(operation, options({ policy: { initialMs: 1, maxMs: 1, maxAttempts } }))).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(attempts).toEqual([]);
    }
  });

  it('without maxAttempts, retries until it succeeds', async () => {
    const { sleep, delays } = recordingSleep();
    await expect(retry(failing(50).operation, options(), () => 0, sleep)).resolves.toBe('ok');
    expect(delays).toHaveLength(50);
  });

  it('an abort during the wait ends the retrying with a retriable SHUTDOWN error caused by the last failure', async () => {
    const controller = new AbortController();
    const { sleep } = recordingSleep(() => controller.abort());
    const { operation, attempts } = failing(10);
    const error: unknown = await retry(operation, options({ signal: controller.signal }), () => 0.5, sleep).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SHUTDOWN', retriable: true, message: 'gave up retrying at shutdown: down 1' });
    expect((error as Error).cause).toMatchObject({ message: 'down 1' });
    expect(attempts).toEqual([1]);
  });

  it('a failure seen after the signal aborted is not retried and not waited for', async () => {
    const controller = new AbortController();
    const { sleep, delays } = recordingSleep();
    const retries: number[] = [];
    const outcome = retry(
      () => {
        controller.abort();
        return Promise.reject(transient());
      },
      options({ signal: controller.signal, onRetry: (attempt) => retries.push(attempt) }),
      () => 0.5,
      sleep,
    );
    await expect(outcome).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(delays).toEqual([]);
    expect(retries).toEqual([]);
  });

  it('a permanent failure or the last allowed try wins over the abort: the failure is rethrown as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(retry(() => Promise.reject(permanent), options({ signal: controller.signal }))).rejects.toBe(permanent);
    const last = transient(9);
    await expect(retry(() => Promise.reject(last), options({ signal: controller.signal, policy: { initialMs: 1, maxMs: 1, maxAttempts: 1 } }))).rejects.toBe(
      last,
    );
  });

  it('abortError chooses what an abort rejects with', async () => {
    const controller = new AbortController();
    const { sleep } = recordingSleep(() => controller.abort());
    const marker = new Error('stopped');
    const seen: unknown[] = [];
    const outcome = retry(
      failing(3).operation,
      options({
        signal: controller.signal,
        abortError: (last) => {
          seen.push(last);
          return marker;
        },
      }),
      () => 0,
      sleep,
    );
    await expect(outcome).rejects.toBe(marker);
    expect(seen).toMatchObject([{ message: 'down 1' }]);
  });

  it('the real sleep ends early when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const outcome = retry(failing(10).operation, options({ signal: controller.signal, policy: { initialMs: 60_000, maxMs: 60_000 } }), () => 0.999);
    setTimeout(() => controller.abort(), 10);
    await expect(outcome).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('delayMs replaces the backoff (a Retry-After honoured as it is) or bounds it (as a floor)', async () => {
    const pushback = new TributaryError('SINK_UNAVAILABLE', 'slow down', { retriable: true, context: { retryAfterMs: 700 } });
    const retryAfter = (error: unknown): number | undefined =>
      error instanceof TributaryError ? (error.context.retryAfterMs as number | undefined) : undefined;

    const instead = recordingSleep();
    await retry(
      failing(2, (n) => (n === 1 ? pushback : transient())).operation,
      options({ delayMs: (backoff, error) => retryAfter(error) ?? backoff }),
      () => 0.5,
      instead.sleep,
    );
    expect(instead.delays).toEqual([700, 100]);

    const floor = recordingSleep();
    await retry(
      failing(6, () => pushback).operation,
      options({ delayMs: (backoff, error) => Math.max(backoff, retryAfter(error) ?? 0) }),
      () => 0.999_999,
      floor.sleep,
    );
    expect(floor.delays).toEqual([700, 700, 700, 799, 999, 999]);
  });

  it('the delay reported to onRetry is the one waited', async () => {
    const reported: number[] = [];
    const { sleep, delays } = recordingSleep();
    await retry(failing(3).operation, options({ delayMs: (backoff) => backoff + 1, onRetry: (_attempt, delayMs) => reported.push(delayMs) }), () => 0.5, sleep);
    expect(reported).toEqual(delays);
  });
});
