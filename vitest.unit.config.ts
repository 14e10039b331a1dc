/**
 * `npm run test:unit`: the driver and pure tests only — no Kafka broker, no
 * registry, no Java, no child services. Unlike vitest.config.ts it has no
 * globalSetup, so nothing is started; a test that needs a broker belongs in
 * the whole suite (`npm test`), not here.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/state/**/*.test.ts',
      'test/topology/**/*.test.ts',
      'test/processors/**/*.test.ts',
      'test/schemas/**/*.test.ts',
      'test/kafkajs-patch/**/*.test.ts',
      'test/openmeter/unit/**/*.test.ts',
      'test/cli/replay*.test.ts',
      'test/cli/read-lines.test.ts',
      'test/faults/reference.test.ts',
      'test/service/memory-report.test.ts',
      'test/service/entitlement-replica.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
