import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/vitest-report.json' },
    // One real Kafka broker (KRaft, 127.0.0.1) for the run; fails the run if it cannot start.
    globalSetup: ['test/kafka/global-setup.ts'],
  },
});
