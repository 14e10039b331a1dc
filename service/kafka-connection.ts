/** The config's Kafka connection (brokers, TLS and SASL passthrough) as the runtime and kafkajs take it. */
import type { Kafka, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { createKafkaClient, type ProducerRetryOptions } from '../client/index.js';
import type { TallyConfig } from '../schemas/index.js';

export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: SASLOptions;
}

export function kafkaConnection(config: TallyConfig): KafkaConnection {
  return {
    brokers: config.kafka.brokers,
    ...(config.kafka.ssl === undefined ? {} : { ssl: config.kafka.ssl as boolean | ConnectionOptions }),
    ...(config.kafka.sasl === undefined ? {} : { sasl: config.kafka.sasl as unknown as SASLOptions }),
  };
}

/** kafkajs's own default retries (5, from 300 ms up to 30 s). */
const defaultRetry: ProducerRetryOptions = { retries: 5, initialRetryMs: 300, maxRetryMs: 30_000 };

export function kafkaClient(config: TallyConfig, clientId: string, retry: ProducerRetryOptions = defaultRetry): Kafka {
  return createKafkaClient({ ...kafkaConnection(config), clientId }, retry);
}
