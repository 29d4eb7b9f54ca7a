import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure, fast, beside the code) and `integration`
 * (real servers; `test/setup/kafka.ts` starts a broker unless KAFKA_BROKERS
 * names one).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['cli/**/*.test.ts', 'agent/**/*.test.ts', 'collector/**/*.test.ts', 'shared/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'deploy/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/kafka.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // Integration tests share one broker and two cores; running files one at a time keeps timings sane.
          fileParallelism: false,
        },
      },
    ],
  },
});
