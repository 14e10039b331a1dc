/**
 * Vitest globalSetup: one real single-node Kafka broker (KRaft, 127.0.0.1) for the whole run.
 * Tests read its bootstrap list with `inject('kafkaBrokers')`.
 *
 * It never skips: if the broker cannot start (no java, no mvn, Maven Central unreachable, broker
 * crash), setup throws and the run fails.
 *
 * TALLY_KAFKA_BROKERS=host:port[,host:port] uses an already running broker instead (e.g. one from
 * `npm run kafka:start`); it must answer, or setup throws. TALLY_KAFKA_VERSION picks the version.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';
import { startLocalKafka } from '../../cli/local-cluster/local-kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the run's Kafka broker, e.g. ['127.0.0.1:39092']. */
    kafkaBrokers: string[];
    /** Kafka version of that broker ('external' for TALLY_KAFKA_BROKERS). */
    kafkaVersion: string;
  }
}

async function checkExternal(brokers: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'tally-global-setup', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (e) {
    throw new Error(`TALLY_KAFKA_BROKERS=${brokers.join(',')} does not answer: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['TALLY_KAFKA_BROKERS'];
  if (external !== undefined && external.trim() !== '') {
    const brokers = external.split(',').map((b) => b.trim()).filter((b) => b !== '');
    await checkExternal(brokers);
    project.provide('kafkaBrokers', brokers);
    project.provide('kafkaVersion', 'external');
    return async () => undefined;
  }

  const t0 = Date.now();
  const kafka = await startLocalKafka(); // throws, with the broker's last output, if it cannot start
  process.stderr.write(`[kafka global-setup] Kafka ${kafka.version} on ${kafka.brokers.join(',')} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  project.provide('kafkaBrokers', kafka.brokers);
  project.provide('kafkaVersion', kafka.version);
  return async () => {
    await kafka.stop();
  };
}
