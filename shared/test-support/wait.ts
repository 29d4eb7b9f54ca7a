import { vi } from 'vitest';

/**
 * The one condition wait of the tests, on `vi.waitFor`: polls `probe` until it returns something other than
 * `undefined` or `false` and resolves with that value. A probe that throws counts as "not yet" (a server still
 * starting), and its last error is kept for the failure message, which names what was awaited: a bare
 * `vi.waitFor` only reports the last thrown error, which says nothing when the probe returns a boolean.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  intervalMs = 10,
): Promise<T> {
  let lastError: unknown;
  try {
    return await vi.waitFor(
      async () => {
        let value: T | undefined | false;
        try {
          value = await probe();
        } catch (error) {
          lastError = error;
          throw error;
        }
        if (value === undefined || value === false) throw new NotYet();
        return value;
      },
      { timeout: timeoutMs, interval: intervalMs },
    );
  } catch (error) {
    const cause = lastError ?? error;
    const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause });
  }
}

/** Thrown by the probe wrapper while the condition does not hold; never escapes `waitFor`. */
class NotYet extends Error {
  constructor() {
    super('condition not met yet');
  }
}
