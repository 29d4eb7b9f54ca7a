import { expect } from 'vitest';
import { ConfigError } from '../config/load.js';

/** The ConfigError `run` throws, with its type checked. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The problems of the ConfigError `run` throws, as `path: message` lines. */
export function problemsOf(run: () => unknown): string[] {
  return configErrorOf(run).problems.map((problem) => `${problem.path}: ${problem.message}`);
}
