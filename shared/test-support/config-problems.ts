import { ConfigError } from '../config/load.js';

// No vitest here: shared/test-support compiles into dist/, where vitest (a dev dependency) is not installed.

/** The ConfigError `run` throws; anything else, or nothing, fails the test. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`expected a ConfigError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** The problems of the ConfigError `run` throws, as `path: message` lines. */
export function problemsOf(run: () => unknown): string[] {
  return configErrorOf(run).problems.map((problem) => `${problem.path}: ${problem.message}`);
}
