/**
 * The Kafka producer usage is sent with: idempotent (the broker drops a
 * batch it already wrote when kafkajs retries it), one request in flight per
 * broker so retries never reorder, every send acknowledged by all in-sync
 * replicas, and messages keyed by subject through Kafka's default (Java
 * client's murmur2) partitioner, so the pipeline can skip its repartition.
 */
import kafkajs, { type Kafka, type KafkaConfig, type Producer, type SASLOptions } from 'kafkajs';

export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl?: KafkaConfig['ssl'] | undefined;
  readonly sasl?: SASLOptions | undefined;
}

export interface ProducerRetryOptions {
  /** kafkajs' own retries of one send before it gives up and the caller decides. */
  readonly retries: number;
  readonly initialRetryMs: number;
  readonly maxRetryMs: number;
}

/** All in-sync replicas acknowledge every send (required by the idempotent producer). */
export const allReplicasAcks = -1;

/** A kafkajs client for `connection`; kafkajs' own logging is off (callers report failures in their own words). */
export function createKafkaClient(connection: KafkaConnectionOptions, retry: ProducerRetryOptions): Kafka {
  return new kafkajs.Kafka({
    clientId: connection.clientId,
    brokers: [...connection.brokers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: kafkajsRetry(retry),
    ...(connection.ssl === undefined ? {} : { ssl: connection.ssl }),
    ...(connection.sasl === undefined ? {} : { sasl: connection.sasl }),
  });
}

export function createIdempotentProducer(kafka: Kafka, retry: ProducerRetryOptions): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    retry: kafkajsRetry(retry),
  });
}

function kafkajsRetry(retry: ProducerRetryOptions): { retries: number; initialRetryTime: number; maxRetryTime: number } {
  return { retries: retry.retries, initialRetryTime: retry.initialRetryMs, maxRetryTime: retry.maxRetryMs };
}
